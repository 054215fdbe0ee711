package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	srcFile  = "sources/src/configuration.yaml"
	dstFile  = "destinations/dst/configuration.yaml"
	connFile = "connections/conn/configuration.yaml"
)

// minimal is a small valid project; tests replace text in it to break it.
var minimal = map[string]string{
	srcFile: `resource_name: src
definition_type: source
configuration:
  host: ${DB_HOST}
  port: 3306
  database: acode
  username: u
  password: ${DB_PASS}  # from the environment
  ssl_mode:
    mode: preferred
`,
	dstFile: `resource_name: dst
definition_type: destination
configuration:
  s3_bucket_name: b
  s3_bucket_region: us-east-2
  s3_bucket_path: p
  format:
    format_type: Parquet
`,
	connFile: `resource_name: conn
definition_type: connection
source_configuration_path: sources/src/configuration.yaml
destination_configuration_path: destinations/dst/configuration.yaml
configuration:
  sync_catalog:
    streams:
      - config:
          sync_mode: full_refresh
          cursor_field: []
        stream:
          name: t1
          namespace: acode
`,
}

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var minimalEnv = env("DB_HOST", "db.example", "DB_PASS", "pw")

// edit describes one change to the minimal project: replace Old with New in
// File, or write File with New when Old is empty.
type edit struct{ File, Old, New string }

func writeProject(t *testing.T, edits ...edit) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	for k, v := range minimal {
		files[k] = v
	}
	for _, e := range edits {
		if e.Old == "" {
			files[e.File] = e.New
			continue
		}
		if !strings.Contains(files[e.File], e.Old) {
			t.Fatalf("edit: %q not in %s", e.Old, e.File)
		}
		files[e.File] = strings.Replace(files[e.File], e.Old, e.New, 1)
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad_MinimalProject(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Connection("conn")
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.Host != "db.example" || c.Source.Port != 3306 || c.Source.Password.Reveal() != "pw" || c.Destination.PathFormat != DefaultPathFormat {
		t.Errorf("source %+v destination %+v", c.Source, c.Destination)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %q", p.Warnings)
	}
}

func TestLoad_ExpandedValuesDecodeIntoTypedFields(t *testing.T) {
	t.Parallel()
	dir := writeProject(t,
		edit{srcFile, "port: 3306", "port: ${DB_PORT}"},
		edit{SettingsFile, "", "sync:\n  chunk_rows: ${CHUNK}\n  read_timeout: ${READ_TIMEOUT}\n"},
	)
	p, err := Load(dir, env("DB_HOST", "h", "DB_PASS", "p", "DB_PORT", "3307", "CHUNK", "1000", "READ_TIMEOUT", "90s"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Sources["src"].Port; got != 3307 {
		t.Errorf("Port = %d, want 3307", got)
	}
	if s := p.Settings.Sync; s.ChunkRows != 1000 || s.ReadTimeout != 90*time.Second {
		t.Errorf("sync settings: %+v", s)
	}
}

func TestLoad_ErrorsNameFileLineAndKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
		env   func(string) (string, bool)
		want  Error // Msg: a substring
	}{
		{"unset variable", nil, env("DB_HOST", "h"),
			Error{srcFile, 8, "password", "environment variable DB_PASS is not set"}},
		{"missing host", []edit{{srcFile, "  host: ${DB_HOST}\n", ""}}, nil,
			Error{srcFile, 3, "host", "required key is missing"}},
		{"empty host", []edit{{srcFile, "host: ${DB_HOST}", "host: ''"}}, nil,
			Error{srcFile, 4, "host", "required key is missing or empty"}},
		{"port not a number", []edit{{srcFile, "port: 3306", `port: "abc"`}}, nil,
			Error{srcFile, 5, "port", `must be a whole number, got "abc"`}},
		{"port from a variable that is not a number", []edit{{srcFile, "port: 3306", "port: ${DB_PORT}"}},
			env("DB_HOST", "h", "DB_PASS", "p", "DB_PORT", "x1"),
			Error{srcFile, 5, "port", `must be a whole number, got "x1"`}},
		{"port out of range", []edit{{srcFile, "port: 3306", "port: 70000"}}, nil,
			Error{srcFile, 5, "port", "must be between 1 and 65535"}},
		{"bad ssl mode", []edit{{srcFile, "mode: preferred", "mode: bogus"}}, nil,
			Error{srcFile, 10, "ssl_mode.mode", `must be one of preferred, required, verify_ca, verify_identity, disabled, disable, got "bogus"`}},
		{"verify_ca without a CA", []edit{{srcFile, "mode: preferred", "mode: verify_ca"}}, nil,
			Error{srcFile, 9, "ssl_mode.ca_certificate", "required when mode is verify_ca"}},
		{"ssh tunnel", []edit{{srcFile, "  ssl_mode:", "  tunnel_method:\n    tunnel_method: SSH_KEY_AUTH\n  ssl_mode:"}}, nil,
			Error{srcFile, 10, "tunnel_method.tunnel_method", "not supported"}},
		{"ssl_mode not a mapping", []edit{{srcFile, "  ssl_mode:\n    mode: preferred", "  ssl_mode: [a]"}}, nil,
			Error{srcFile, 9, "ssl_mode", "must be a mapping of keys to values, not a list"}},
		{"wrong definition_type", []edit{{srcFile, "definition_type: source", "definition_type: destination"}}, nil,
			Error{srcFile, 2, "definition_type", `must be "source"`}},
		{"connection points at a missing source", []edit{{connFile, "sources/src/", "sources/nope/"}}, nil,
			Error{connFile, 3, "source_configuration_path", "file sources/nope/configuration.yaml does not exist"}},
		{"connection points at a missing destination", []edit{{connFile, "destinations/dst/", "destinations/gone/"}}, nil,
			Error{connFile, 4, "destination_configuration_path", "does not exist"}},
		{"incremental without cursor", []edit{{connFile, "sync_mode: full_refresh", "sync_mode: incremental"}}, nil,
			Error{connFile, 10, "sync_catalog.streams[0].config.cursor_field", "stream t1: incremental sync needs a cursor_field"}},
		{"stream without name", []edit{{connFile, "          name: t1\n", ""}}, nil,
			Error{connFile, 11, "sync_catalog.streams[0].stream.name", "required key is missing"}},
		{"format not parquet", []edit{{dstFile, "format_type: Parquet", "format_type: CSV"}}, nil,
			Error{dstFile, 8, "format.format_type", `must be one of Parquet, got "CSV"`}},
		{"LZO codec", []edit{{dstFile, "format_type: Parquet", "format_type: Parquet\n    compression_codec: lzo"}}, nil,
			Error{dstFile, 9, "format.compression_codec", "LZO is not supported"}},
		{"unknown codec", []edit{{dstFile, "format_type: Parquet", "format_type: Parquet\n    compression_codec: XZ"}}, nil,
			Error{dstFile, 9, "format.compression_codec", "must be one of"}},
		{"format missing", []edit{{dstFile, "  format:\n    format_type: Parquet\n", ""}}, nil,
			Error{dstFile, 3, "format", "required key is missing"}},
		{"bucket and local path", []edit{{dstFile, "s3_bucket_path: p", "s3_bucket_path: p\n  destination_path: out"}}, nil,
			Error{dstFile, 7, "destination_path", "not both"}},
		{"one of two AWS keys", []edit{{dstFile, "s3_bucket_path: p", "s3_bucket_path: p\n  access_key_id: AK"}}, nil,
			Error{dstFile, 3, "secret_access_key", "go together"}},
		{"unknown acode.yaml key", []edit{{SettingsFile, "", "sync:\n  chunk_rows: 5\n  chunk_rowz: 5\n"}}, nil,
			Error{SettingsFile, 3, "sync.chunk_rowz", "unknown key"}},
		{"unknown acode.yaml section", []edit{{SettingsFile, "", "# settings\nsinc:\n  chunk_rows: 5\n"}}, nil,
			Error{SettingsFile, 2, "sinc", "unknown key"}},
		{"bad duration", []edit{{SettingsFile, "", "sync:\n  read_timeout: 10\n"}}, nil,
			Error{SettingsFile, 2, "sync.read_timeout", "must be a duration"}},
		{"negative compressed_reads", []edit{{SettingsFile, "", "sync:\n  compressed_reads: -1\n"}}, nil,
			Error{SettingsFile, 2, "sync.compressed_reads", "between 0 and 64"}},
		{"bad types", []edit{{SettingsFile, "", "sync:\n  types: loose\n"}}, nil,
			Error{SettingsFile, 2, "sync.types", `must be one of exact, airbyte, got "loose"`}},
		{"invalid YAML", []edit{{dstFile, "", "resource_name: [unclosed\n"}}, nil,
			Error{dstFile, 0, "", "invalid YAML"}},
		{"duplicate resource name", []edit{{"sources/other/configuration.yaml", "", minimal[srcFile]}}, nil,
			Error{"sources/src/configuration.yaml", 1, "resource_name", `"src" is also the name of sources/other/configuration.yaml`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lookup := tt.env
			if lookup == nil {
				lookup = minimalEnv
			}
			p, err := Load(writeProject(t, tt.edits...), lookup)
			if err == nil {
				t.Fatalf("Load succeeded, want an error at %s", tt.want.Error())
			}
			if p != nil {
				t.Errorf("Load returned a project along with the error")
			}
			errs := Errors(err)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), err)
			}
			got := errs[0]
			if got.File != tt.want.File || got.Line != tt.want.Line || got.Key != tt.want.Key || !strings.Contains(got.Msg, tt.want.Msg) {
				t.Errorf("got  %s\nwant %s", got, &tt.want)
			}
		})
	}
}

func TestLoad_ReportsAllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	dir := writeProject(t,
		edit{srcFile, "port: 3306", "port: abc"},
		edit{dstFile, "format_type: Parquet", "format_type: Avro"},
		edit{SettingsFile, "", "sync:\n  parallel_streams: 0\n"},
	)
	_, err := Load(dir, env("DB_HOST", "h"))
	got := []string{}
	for _, e := range Errors(err) {
		got = append(got, e.Error())
	}
	want := []string{
		"acode.yaml:2: sync.parallel_streams: must be between 1 and 64, got 0",
		`destinations/dst/configuration.yaml:8: format.format_type: must be one of Parquet, got "Avro"`,
		`sources/src/configuration.yaml:5: port: must be a whole number, got "abc"`,
		"sources/src/configuration.yaml:8: password: environment variable DB_PASS is not set",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Error("errors.As(err, *Error) fails")
	}
}

func TestLoad_UnknownOctaviaKeysAreWarnings(t *testing.T) {
	t.Parallel()
	dir := writeProject(t,
		edit{srcFile, "  ssl_mode:", "  hots: typo\n  ssl_mode:"},
		edit{connFile, "resource_name: conn", "resource_name: conn\nworkspace: w"},
	)
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sources/src/configuration.yaml:9: hots: unknown key, ignored",
		"connections/conn/configuration.yaml:2: workspace: unknown key, ignored",
	}
	if strings.Join(p.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(p.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoad_PathVariablesStayLiteral(t *testing.T) {
	t.Parallel()
	dir := writeProject(t,
		edit{dstFile, "s3_bucket_path: p", "s3_bucket_path: ${ENVIRONMENT}/bronze\n" +
			`  s3_path_format: "${STREAM_NAME}/cog_dt_ingestion=${YEAR}-${MONTH}-${DAY}/${TEAM}_${EPOCH}_${UUID}"` + "\n" +
			`  file_name_pattern: "{date}_${PART_NUMBER}"`},
		edit{connFile, "configuration:\n", "configuration:\n  namespace_format: \"${SOURCE_NAMESPACE}_${ENVIRONMENT}\"\n"},
	)
	p, err := Load(dir, env("DB_HOST", "h", "DB_PASS", "p", "ENVIRONMENT", "prod", "TEAM", "data", "YEAR", "1999"))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Connections["conn"]
	d := c.Destination
	if d.BucketPath != "prod/bronze" {
		t.Errorf("BucketPath = %q", d.BucketPath)
	}
	if want := "${STREAM_NAME}/cog_dt_ingestion=${YEAR}-${MONTH}-${DAY}/data_${EPOCH}_${UUID}"; d.PathFormat != want {
		t.Errorf("PathFormat = %q, want %q", d.PathFormat, want)
	}
	if d.FileNamePattern != "{date}_${PART_NUMBER}" {
		t.Errorf("FileNamePattern = %q", d.FileNamePattern)
	}
	if c.NamespaceFormat != "${SOURCE_NAMESPACE}_prod" {
		t.Errorf("NamespaceFormat = %q", c.NamespaceFormat)
	}

	// Outside those keys an Airbyte variable name is an ordinary variable.
	dir = writeProject(t, edit{dstFile, "s3_bucket_path: p", "s3_bucket_path: ${STREAM_NAME}"})
	_, err = Load(dir, minimalEnv)
	if errs := Errors(err); len(errs) != 1 || errs[0].Key != "s3_bucket_path" {
		t.Errorf("want an unset-variable error on s3_bucket_path, got %v", err)
	}
}

func TestLoad_RelativePathsResolveAgainstTheConfigDir(t *testing.T) {
	t.Parallel()
	const pemCA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
	dir := writeProject(t,
		edit{dstFile, "s3_bucket_name: b\n  s3_bucket_region: us-east-2\n", "destination_path: ./out/bronze\n"},
		edit{srcFile, "mode: preferred", "mode: verify_identity\n    ca_certificate: certs/ca.pem"},
		edit{"certs/ca.pem", "", pemCA},
		edit{SettingsFile, "", "state_db: var/state.db\nsync:\n  spool_dir: tmp\n"},
	)
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	d := p.Destinations["dst"]
	if d.Kind != KindLocal || d.LocalPath != filepath.Join(dir, "out", "bronze") {
		t.Errorf("local destination: kind %q path %q", d.Kind, d.LocalPath)
	}
	if got := p.Sources["src"].SSL; got.Mode != SSLVerifyIdentity || got.CACertificate != pemCA {
		t.Errorf("ssl: %+v", got)
	}
	if p.Settings.StateDB != filepath.Join(dir, "var", "state.db") || p.Settings.Sync.SpoolDir != filepath.Join(dir, "tmp") {
		t.Errorf("StateDB = %q, SpoolDir = %q", p.Settings.StateDB, p.Settings.Sync.SpoolDir)
	}

	// From another working directory, a relative config dir still works.
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Load(rel, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Dir != dir || p2.Destinations["dst"].LocalPath != d.LocalPath {
		t.Errorf("relative dir: Dir %q LocalPath %q", p2.Dir, p2.Destinations["dst"].LocalPath)
	}
}

func TestLoad_ScratchDefaultsBesideTheStateDB(t *testing.T) {
	t.Parallel()
	dir := writeProject(t)
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, ".acode", "scratch"); p.Settings.Sync.SpoolDir != want {
		t.Errorf("default SpoolDir = %q, want %q", p.Settings.Sync.SpoolDir, want)
	}
	dir = writeProject(t, edit{SettingsFile, "", "state_db: /var/lib/acode/state.db\nsync:\n  spool_dir: \"\"\n"})
	if p, err = Load(dir, minimalEnv); err != nil {
		t.Fatal(err)
	}
	if p.Settings.Sync.SpoolDir != "/var/lib/acode/scratch" {
		t.Errorf("SpoolDir with state_db elsewhere = %q, want /var/lib/acode/scratch", p.Settings.Sync.SpoolDir)
	}
}
