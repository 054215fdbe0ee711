package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

// Sync modes of a configured stream.
const (
	SyncFullRefresh = "full_refresh"
	SyncIncremental = "incremental"

	DestAppend      = "append"
	DestOverwrite   = "overwrite"
	DestAppendDedup = "append_dedup"
)

// Connection is an Airbyte connection: which streams of a source go to a
// destination, and when.
type Connection struct {
	File         string // absolute path of its configuration.yaml
	ResourceName string
	// ID is the connection's Airbyte id: resource_id from an Octavia state
	// file (state_*.yaml) beside the configuration when there is one, so
	// Airflow DAGs that pass that id keep working; otherwise a UUIDv5 of the
	// resource name, stable across runs and machines.
	ID string

	Source      *Source
	Destination *Destination

	Status              string // active, inactive or deprecated
	ScheduleType        string // manual, basic or cron
	Schedule            ScheduleData
	NamespaceDefinition string // source, destination or customformat
	NamespaceFormat     string // with ${SOURCE_NAMESPACE} left for rendering
	Prefix              string
	Streams             []Stream
}

// ScheduleData is a connection's schedule_data: basic_schedule for
// schedule_type basic, cron for schedule_type cron.
type ScheduleData struct {
	BasicUnits     int
	BasicTimeUnit  string // minutes, hours, days, weeks, months
	CronExpression string // Quartz syntax, as Airbyte takes it
	CronTimeZone   string
}

// Stream is one entry of the connection's sync_catalog.
type Stream struct {
	Name                string
	Namespace           string // the MySQL database
	AliasName           string // defaults to Name
	SyncMode            string // SyncFullRefresh or SyncIncremental
	DestinationSyncMode string // DestAppend, DestOverwrite or DestAppendDedup
	CursorField         []string
	PrimaryKey          [][]string // config.primary_key, else the stream's source_defined_primary_key
	Selected            bool
}

// SelectedStreams returns the streams to sync, in catalog order.
func (c *Connection) SelectedStreams() []Stream {
	var out []Stream
	for _, s := range c.Streams {
		if s.Selected {
			out = append(out, s)
		}
	}
	return out
}

// Namespace is the database a stream is read from: its catalog namespace,
// else the source's database.
func (c *Connection) Namespace(s Stream) string {
	if s.Namespace != "" {
		return s.Namespace
	}
	return c.Source.Database
}

// connectionNamespace makes connection IDs distinct from other UUIDv5s.
var connectionNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/acode-dev/acode/connection"))

func (l *loader) decodeConnection(f *fileDecoder, root *mapNode, file string) *Connection {
	c := &Connection{File: file, Status: "active", ScheduleType: "manual", NamespaceDefinition: "source"}
	l.octaviaHeader(root, "connection", &c.ResourceName)
	c.Source = l.sourceAt(l.connectionEnd(root, "source_configuration_path"))
	c.Destination = l.destinationAt(l.connectionEnd(root, "destination_configuration_path"))
	cfg := root.child("configuration")
	root.finish()
	if c.ResourceName != "" {
		c.ID = l.connectionID(f, filepath.Dir(file), c.ResourceName)
	}
	if cfg == nil {
		root.missing("configuration")
		return c
	}
	cfg.enum("status", &c.Status, "active", "inactive", "deprecated")
	cfg.enum("namespace_definition", &c.NamespaceDefinition, "source", "destination", "customformat")
	cfg.str("namespace_format", &c.NamespaceFormat)
	cfg.str("prefix", &c.Prefix)
	cfg.enum("schedule_type", &c.ScheduleType, "manual", "basic", "cron")
	decodeSchedule(cfg, c.ScheduleType, &c.Schedule)
	if cat := cfg.child("sync_catalog"); cat != nil {
		c.Streams = decodeStreams(cat, c.Source != nil && c.Source.ReplicationMethod == ReplicationCDC)
		cat.finish()
	} else if !cfg.wasBad("sync_catalog") {
		cfg.missing("sync_catalog")
	}
	// Airbyte platform settings that do not change what acode writes.
	cfg.ignore("skip_reset", "resource_requirements", "operations", "geography",
		"non_breaking_changes_preference", "notify_schema_changes", "notify_schema_changes_by_email",
		"backfill_preference", "source_catalog_id")
	cfg.finish()
	return c
}

// connectionEnd resolves source_ or destination_configuration_path to an
// absolute file path, or "" when it is missing (reported).
func (l *loader) connectionEnd(root *mapNode, key string) string {
	var p string
	if !root.str(key, &p) || p == "" {
		if !root.wasBad(key) {
			root.missing(key)
		}
		return ""
	}
	abs := l.resolve(p)
	if !fileExists(abs) {
		root.errorf(key, "file %s does not exist", p)
		return ""
	}
	return abs
}

// sourceAt returns the source loaded from file, loading it when it lies
// outside sources/*/.
func (l *loader) sourceAt(file string) *Source {
	if file == "" {
		return nil
	}
	if s, ok := l.sourceFiles[file]; ok {
		return s
	}
	return l.loadSource(file)
}

func (l *loader) destinationAt(file string) *Destination {
	if file == "" {
		return nil
	}
	if d, ok := l.destFiles[file]; ok {
		return d
	}
	return l.loadDestination(file)
}

// connectionID reads resource_id from Octavia's state_*.yaml in dir, or
// derives a stable UUIDv5 from the name.
func (l *loader) connectionID(f *fileDecoder, dir, name string) string {
	states, _ := filepath.Glob(filepath.Join(dir, "state_*.yaml")) // the pattern is valid
	slices.Sort(states)
	for _, st := range states {
		data, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		var state struct {
			ResourceID string `yaml:"resource_id"`
		}
		if err := yaml.Unmarshal(data, &state); err != nil {
			l.c.add(l.rel(st), 0, "", "invalid YAML: %v", err)
			continue
		}
		if state.ResourceID != "" {
			return state.ResourceID
		}
	}
	return uuid.NewSHA1(connectionNamespace, []byte(name)).String()
}

func decodeSchedule(cfg *mapNode, scheduleType string, s *ScheduleData) {
	sd := cfg.child("schedule_data")
	switch scheduleType {
	case "basic":
		var b *mapNode
		if sd != nil {
			b = sd.child("basic_schedule")
		}
		if b == nil {
			cfg.errorf("schedule_data", "schedule_type basic needs schedule_data.basic_schedule {time_unit, units}")
			break
		}
		if !b.enum("time_unit", &s.BasicTimeUnit, "minutes", "hours", "days", "weeks", "months") {
			b.missing("time_unit")
		}
		if !b.integer("units", &s.BasicUnits, 1, 1<<20) {
			b.missing("units")
		}
		b.finish()
	case "cron":
		var c *mapNode
		if sd != nil {
			c = sd.child("cron")
		}
		if c == nil {
			cfg.errorf("schedule_data", "schedule_type cron needs schedule_data.cron {cron_expression, cron_time_zone}")
			break
		}
		c.required("cron_expression", &s.CronExpression)
		s.CronTimeZone = "UTC"
		c.str("cron_time_zone", &s.CronTimeZone)
		c.finish()
	}
	if sd != nil {
		sd.ignore("basic_schedule", "cron")
		sd.finish()
	}
}

// With cdc (the source reads the binlog) an incremental stream needs no
// cursor_field: the binlog position is its cursor.
func decodeStreams(cat *mapNode, cdc bool) []Stream {
	var out []Stream
	seen := map[string]int{}
	for i, item := range cat.seq("streams") {
		path := indexPath(cat.key("streams"), i)
		if item.Kind != yaml.MappingNode {
			cat.f.errorAt(item, path, "must be a mapping with config and stream")
			continue
		}
		entry := cat.f.newMap(item, path, item.Line)
		s, ok := decodeStream(entry, cdc)
		entry.finish()
		if !ok {
			continue
		}
		id := s.Namespace + "." + s.Name
		if first, dup := seen[id]; dup {
			cat.f.errorAt(item, path, "stream %s is listed twice (first at line %d)", id, first)
			continue
		}
		seen[id] = item.Line
		out = append(out, s)
	}
	if len(out) == 0 && !cat.wasBad("streams") {
		cat.errorf("streams", "no streams: list at least one under sync_catalog.streams")
	}
	return out
}

func decodeStream(entry *mapNode, cdc bool) (Stream, bool) {
	s := Stream{SyncMode: SyncFullRefresh, DestinationSyncMode: DestAppend, Selected: true}
	st := entry.child("stream")
	if st == nil {
		entry.missing("stream")
		return s, false
	}
	st.required("name", &s.Name)
	st.str("namespace", &s.Namespace)
	var sourcePK [][]string
	if st.has("source_defined_primary_key") {
		sourcePK = decodeKeyPaths(st, "source_defined_primary_key")
	}
	st.ignore("supported_sync_modes", "json_schema", "source_defined_cursor", "default_cursor_field", "is_resumable")
	st.finish()

	cfg := entry.child("config")
	if cfg == nil {
		entry.missing("config")
		return s, false
	}
	s.AliasName = s.Name
	cfg.str("alias_name", &s.AliasName)
	cfg.enum("sync_mode", &s.SyncMode, SyncFullRefresh, SyncIncremental)
	cfg.enum("destination_sync_mode", &s.DestinationSyncMode, DestAppend, DestOverwrite, DestAppendDedup, "overwrite_dedup")
	s.CursorField = cfg.strings("cursor_field")
	if cfg.has("primary_key") {
		s.PrimaryKey = decodeKeyPaths(cfg, "primary_key")
	}
	if len(s.PrimaryKey) == 0 {
		s.PrimaryKey = sourcePK
	}
	cfg.boolean("selected", &s.Selected)
	cfg.ignore("suggested", "field_selection_enabled", "selected_fields", "hashed_fields", "mappers", "minimum_generation_id", "generation_id", "sync_id")
	if s.SyncMode == SyncIncremental && !cdc && len(s.CursorField) == 0 && !cfg.wasBad("cursor_field") {
		cfg.errorf("cursor_field", "stream %s: incremental sync needs a cursor_field (the column whose growth marks new rows)", s.Name)
	}
	if strings.HasSuffix(s.DestinationSyncMode, "_dedup") && len(s.PrimaryKey) == 0 {
		cfg.errorf("primary_key", "stream %s: %s needs a primary_key", s.Name, s.DestinationSyncMode)
	}
	cfg.finish()
	return s, true
}

// decodeKeyPaths reads Airbyte's list of field paths: [[idpk], [a, b]].
func decodeKeyPaths(m *mapNode, key string) [][]string {
	var out [][]string
	for i, it := range m.seq(key) {
		if it.Kind != yaml.SequenceNode {
			m.f.errorAt(it, indexPath(m.key(key), i), "must be a list of field names, e.g. [idpk]")
			continue
		}
		var path []string
		for _, p := range it.Content {
			path = append(path, p.Value)
		}
		out = append(out, path)
	}
	return out
}
