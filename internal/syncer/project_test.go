package syncer

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is the example project copied into a temp dir and pointed at the
// test's MariaDB and destination: the seed's files with only the host, the
// port, the database name and s3_endpoint changed.
type fixture struct {
	dir      string
	db       *testenv.MariaDB
	database string
	s3       *testenv.S3Server
	bucket   string
	env      map[string]string
}

const testPass = "s3cr3t-Acode-pass"

func newFixture(t *testing.T, db *testenv.MariaDB, database string, s3 *testenv.S3Server) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), db: db, database: database, s3: s3, env: map[string]string{
		"ACODE_PASS":        testPass,
		"ACODE_BACKUP_HOST": "127.0.0.1",
		"ACODE_BACKUP_USER": "userfarmarcasac02",
		"ACODE_BACKUP_PASS": testPass,
		// The S3 destinations need them to load even when a test syncs to disk.
		"FARMARCAS_AWS_ACCESS_KEY_ID":     "unused",
		"FARMARCAS_AWS_SECRET_ACCESS_KEY": "unused",
	}}
	copyTree(t, filepath.Join("..", "..", "examples", "acode-project"), f.dir)
	f.edit(t, "sources/source_mysql_acode/configuration.yaml",
		"host: db-hsp-farmarcas.acode.com.br", "host: 127.0.0.1",
		"port: 3306", "port: "+strconv.Itoa(db.Port))
	for _, name := range []string{"sources/source_mysql_acode/configuration.yaml", "sources/source_mysql_acode_backup/configuration.yaml",
		"connections/connection_mysql_s3_acode/configuration.yaml", "connections/connection_mysql_local_acode/configuration.yaml",
		"connections/connection_mysql_s3_acode_backup/configuration.yaml"} {
		f.edit(t, name, "acode_farmarcas", database)
	}
	if s3 != nil {
		f.bucket = s3.NewBucket(t)
		f.env["FARMARCAS_AWS_ACCESS_KEY_ID"] = s3.AccessKey
		f.env["FARMARCAS_AWS_SECRET_ACCESS_KEY"] = s3.SecretKey
		f.edit(t, "destinations/destination_s3_acode/configuration.yaml",
			"s3_bucket_name: farmarcas-production-bronze", "s3_bucket_name: "+f.bucket+"\n  s3_endpoint: "+s3.Endpoint,
			"s3_bucket_region: us-east-2", "s3_bucket_region: "+s3.Region)
	}
	db.Exec(t,
		"CREATE USER IF NOT EXISTS 'userfarmarcasac02'@'%' IDENTIFIED BY '"+testPass+"'",
		"GRANT SELECT, SHOW VIEW, REPLICATION CLIENT ON *.* TO 'userfarmarcasac02'@'%'")
	f.settings(t, "chunk_rows: 2000", "file_size_mb: 1")
	return f
}

// settings rewrites acode.yaml's sync section with the given lines.
func (f *fixture) settings(t *testing.T, lines ...string) {
	t.Helper()
	body := "state_db: .acode/state.db\nsync:\n"
	for _, l := range lines {
		body += "  " + l + "\n"
	}
	writeFile(t, filepath.Join(f.dir, "acode.yaml"), body)
}

func (f *fixture) edit(t *testing.T, name string, pairs ...string) {
	t.Helper()
	path := filepath.Join(f.dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s: %q not found", name, pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	writeFile(t, path, s)
}

func (f *fixture) project(t *testing.T) *config.Project {
	t.Helper()
	p, err := config.Load(f.dir, func(k string) (string, bool) { v, ok := f.env[k]; return v, ok })
	if err != nil {
		t.Fatalf("load project: %v", err)
	}
	return p
}

// run syncs the connection once with a fresh Syncer, as `acode sync` does.
func (f *fixture) run(t *testing.T, connection string, opts Options) (*Result, error) {
	t.Helper()
	return runWith(context.Background(), t, f.project(t), connection, opts)
}

// runWith runs a job with the caller's context.
func runWith(ctx context.Context, t *testing.T, p *config.Project, connection string, opts Options) (*Result, error) {
	t.Helper()
	st, err := state.Open(context.Background(), p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Syncer{Project: p, State: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		s.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return s.Run(ctx, connection, opts)
}

// localRoot is where the local destination writes.
func (f *fixture) localRoot() string { return filepath.Join(f.dir, "demo-data") }

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
