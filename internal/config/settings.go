package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Settings are acode's own settings, from acode.yaml in the config dir. The
// file is optional and every setting has a default. Each section of the file
// is one struct with its defaults in DefaultSettings and a decode method that
// reads and validates it; adding a section means adding those two and one
// line in settingsSections.
type Settings struct {
	StateDB   string // state_db: SQLite file, absolute (default <dir>/.acode/state.db), or a postgres:// URL holding a password: never print it
	Sync      SyncSettings
	Serve     ServeSettings
	Health    HealthSettings
	Failover  FailoverSettings
	Alerts    AlertSettings
	Quality   QualitySettings
	Jobs      JobSettings
	CDC       CDCSettings
	Lifecycle LifecycleSettings
	Archive   ArchiveSettings
}

// Types settings for the Parquet schema.
const (
	TypesExact   = "exact"   // DECIMAL stays DECIMAL, DATE stays DATE...
	TypesAirbyte = "airbyte" // destination-s3 0.3.23's layout, for existing partitions
)

// SyncSettings tune a sync job (acode.yaml section "sync").
type SyncSettings struct {
	ChunkRows        int           // chunk_rows: rows per primary-key range
	MaxParallelReads int           // max_parallel_reads: ranges of one stream read at once
	ParallelStreams  int           // parallel_streams: streams synced at once
	FileSizeMB       int           // file_size_mb: a Parquet file is closed past this size
	RowGroupRows     int           // row_group_rows: row group bound in rows
	RowGroupMB       int           // row_group_mb: row group bound in MiB of encoded pages
	Types            string        // types: TypesExact or TypesAirbyte
	ConnectTimeout   time.Duration // connect_timeout
	ReadTimeout      time.Duration // read_timeout: per query
	MaxRowsPerSecond int           // max_rows_per_second: 0 = unlimited
	// CompressedReads (compressed_reads) is how many of a stream's range
	// readers use the MySQL protocol's compression (zlib) while the others
	// do not: across a slow link the compressed readers spend the source's
	// CPU to carry more rows per byte, the others use the link's bandwidth,
	// and the ranges go to whichever reader is free, so the two add up.
	// 0 (the default) compresses nothing; jdbc_url_params
	// useCompression=true compresses every connection.
	CompressedReads int
	// SpoolDir (spool_dir) is the scratch root: each job keeps its part
	// files there, in <spool_dir>/<connection>/job-<id>, between encoding
	// and upload and until the quality verdict. Default: "scratch" beside
	// the state database, never the system temp dir, so what a killed job
	// left is found and removed by the next run.
	SpoolDir string
	// Columns are sync.columns, "stream.column: type": a Parquet type
	// chosen for one column instead of the mapping's, in file order.
	Columns []ColumnOverride
}

// Column types sync.columns accepts (the parquet package's ColumnType names).
var ColumnOverrideTypes = []string{"boolean", "string", "time"}

// ColumnOverride is one sync.columns entry. Line is its line in acode.yaml,
// so that an entry naming a column the table lacks is reported where it is
// written once the sync has discovered the table.
type ColumnOverride struct {
	Stream, Column, Type string
	Line                 int
}

// Key is the entry's key as written under sync.columns.
func (o ColumnOverride) Key() string { return "sync.columns." + o.Stream + "." + o.Column }

// ColumnOverrides returns the sync.columns entries of stream.
func (s SyncSettings) ColumnOverrides(stream string) []ColumnOverride {
	var out []ColumnOverride
	for _, o := range s.Columns {
		if o.Stream == stream {
			out = append(out, o)
		}
	}
	return out
}

// DefaultSettings are the settings of a project without acode.yaml.
func DefaultSettings(dir string) Settings {
	return Settings{
		StateDB: filepath.Join(dir, ".acode", "state.db"),
		Sync: SyncSettings{
			ChunkRows:        250_000,
			MaxParallelReads: 4,
			ParallelStreams:  3,
			FileSizeMB:       200,
			RowGroupRows:     1_000_000,
			RowGroupMB:       16,
			Types:            TypesExact,
			ConnectTimeout:   30 * time.Second,
			ReadTimeout:      10 * time.Minute,
			MaxRowsPerSecond: 0,
			SpoolDir:         filepath.Join(dir, ".acode", "scratch"),
		},
		Serve:     defaultServeSettings(),
		Health:    defaultHealthSettings(),
		Failover:  defaultFailoverSettings(),
		Alerts:    defaultAlertSettings(),
		Quality:   defaultQualitySettings(),
		Jobs:      defaultJobSettings(),
		CDC:       defaultCDCSettings(),
		Lifecycle: defaultLifecycleSettings(),
		Archive:   defaultArchiveSettings(),
	}
}

// section is one block of acode.yaml. decode reads and validates it over
// the defaults already in place; resolve makes a relative path absolute
// against the config dir.
type section struct {
	key    string
	decode func(m *mapNode, resolve func(string) string)
}

// settingsSections lists the sections of acode.yaml and who decodes them.
func (s *Settings) settingsSections() []section {
	return []section{
		{"sync", s.Sync.decode},
		{"serve", s.Serve.decode},
		{"health", s.Health.decode},
		{"failover", s.Failover.decode},
		{"alerts", s.Alerts.decode},
		{"quality", s.Quality.decode},
		{"jobs", s.Jobs.decode},
		{"cdc", s.CDC.decode},
		{"lifecycle", s.Lifecycle.decode},
		{"archive", s.Archive.decode},
	}
}

// loadSettings reads acode.yaml when present. Unknown keys are errors.
func (l *loader) loadSettings() Settings {
	s := DefaultSettings(l.dir)
	file := filepath.Join(l.dir, SettingsFile)
	if !fileExists(file) {
		return s
	}
	_, root := l.open(file, true)
	if root == nil {
		return s
	}
	if root.has("state_db") {
		var p string
		root.required("state_db", &p)
		switch {
		case p == "":
		case isPostgresURL(p):
			if msg := checkPostgresURL(p); msg != "" {
				root.errorf("state_db", "%s", msg)
			}
			s.StateDB = p
		default:
			s.StateDB = l.resolve(p)
			if isPath(p) {
				s.Sync.SpoolDir = filepath.Join(filepath.Dir(s.StateDB), "scratch")
			}
		}
	}
	for _, sec := range s.settingsSections() {
		if m := root.child(sec.key); m != nil {
			sec.decode(m, l.resolve)
			m.finish()
		}
	}
	if msg := s.checkAbortAfterJobs(); msg != "" {
		if lm := root.child("lifecycle"); lm != nil && lm.has("abort_incomplete_uploads_days") {
			lm.errorf("abort_incomplete_uploads_days", "%s", msg)
		} else {
			root.errorf("jobs", "lifecycle.abort_incomplete_uploads_days (default %d): %s", s.Lifecycle.AbortIncompleteUploadsDays, msg)
		}
	}
	root.finish()
	return s
}

// isPath tells a state_db file from a database URL.
func isPath(stateDB string) bool { return !strings.Contains(stateDB, "://") }

const maxInt32 = 1<<31 - 1

func (s *SyncSettings) decode(m *mapNode, resolve func(string) string) {
	m.integer("chunk_rows", &s.ChunkRows, 1, maxInt32)
	m.integer("max_parallel_reads", &s.MaxParallelReads, 1, 64)
	m.integer("parallel_streams", &s.ParallelStreams, 1, 64)
	m.integer("file_size_mb", &s.FileSizeMB, 1, 1<<20)
	m.integer("row_group_rows", &s.RowGroupRows, 1, maxInt32)
	m.integer("row_group_mb", &s.RowGroupMB, 1, 1<<16)
	m.enum("types", &s.Types, TypesExact, TypesAirbyte)
	m.duration("connect_timeout", &s.ConnectTimeout)
	m.duration("read_timeout", &s.ReadTimeout)
	m.integer("max_rows_per_second", &s.MaxRowsPerSecond, 0, maxInt32)
	m.integer("compressed_reads", &s.CompressedReads, 0, 64)
	def := s.SpoolDir
	if m.str("spool_dir", &s.SpoolDir) {
		if s.SpoolDir == "" {
			s.SpoolDir = def // empty means the default, as when absent
		} else {
			s.SpoolDir = resolve(s.SpoolDir)
		}
	}
	if cm := m.child("columns"); cm != nil {
		s.Columns = decodeColumnOverrides(cm)
		cm.finish()
	}
}

// decodeColumnOverrides reads sync.columns: keys "stream.column" (split at
// the first dot: stream names are table names), values a column type.
func decodeColumnOverrides(m *mapNode) []ColumnOverride {
	var out []ColumnOverride
	for _, key := range m.keys() {
		stream, column, ok := strings.Cut(key, ".")
		if !ok || stream == "" || column == "" {
			m.errorf(key, "must be stream.column (e.g. produtos.ativo)")
			continue
		}
		o := ColumnOverride{Stream: stream, Column: column, Line: m.lineOf(key)}
		if m.enum(key, &o.Type, ColumnOverrideTypes...) && o.Type != "" {
			out = append(out, o)
		}
	}
	return out
}

// checkColumnOverrides reports sync.columns entries whose stream no
// connection selects: a misspelt name would otherwise be an override
// silently not applied. Columns are checked when the sync discovers the
// table.
func (l *loader) checkColumnOverrides(overrides []ColumnOverride) {
	streams := map[string]bool{}
	for _, c := range l.connections {
		for _, st := range c.Streams {
			if st.Selected {
				streams[st.Name] = true
			}
		}
	}
	for _, o := range overrides {
		if !streams[o.Stream] {
			l.c.add(SettingsFile, o.Line, "sync.columns."+o.Stream+"."+o.Column, "no connection selects a stream named %q", o.Stream)
		}
	}
}
