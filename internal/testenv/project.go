package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Project is the example project (examples/acode-project) copied into a temp
// dir and pointed at a test's MariaDB and S3 server: the seed's files with
// only the host, the port, the database name, the region and s3_endpoint
// changed, which is what a user changes too.
type Project struct {
	Dir      string
	DB       *MariaDB
	Database string
	S3       *S3Server
	Bucket   string
	// Env is what ${VAR} expands from; pass Lookup to config.Load or Environ
	// to a child process.
	Env map[string]string
}

// ProjectPassword is the source password every Project uses: tests assert
// it never appears in output.
const ProjectPassword = "s3cr3t-Acode-pass"

// NewProject copies the example project and points it at db/database and,
// when s3 is not nil, at a fresh bucket of s3. It creates the seed's MySQL
// user on db.
func NewProject(t testing.TB, db *MariaDB, database string, s3 *S3Server) *Project {
	t.Helper()
	p := &Project{Dir: t.TempDir(), DB: db, Database: database, S3: s3, Env: map[string]string{
		"ACODE_PASS":        ProjectPassword,
		"ACODE_BACKUP_HOST": "127.0.0.1",
		"ACODE_BACKUP_USER": "userfarmarcasac02",
		"ACODE_BACKUP_PASS": ProjectPassword,
		// The S3 destinations need them to load even when a test syncs to disk.
		"FARMARCAS_AWS_ACCESS_KEY_ID":     "unused",
		"FARMARCAS_AWS_SECRET_ACCESS_KEY": "unused",
	}}
	copyTree(t, filepath.Join(repoRoot(t), "examples", "acode-project"), p.Dir)
	p.Edit(t, "sources/source_mysql_acode/configuration.yaml",
		"host: db-hsp-farmarcas.acode.com.br", "host: 127.0.0.1",
		"port: 3306", "port: "+strconv.Itoa(db.Port))
	for _, name := range []string{"sources/source_mysql_acode/configuration.yaml", "sources/source_mysql_acode_backup/configuration.yaml",
		"connections/connection_mysql_s3_acode/configuration.yaml", "connections/connection_mysql_local_acode/configuration.yaml",
		"connections/connection_mysql_s3_acode_backup/configuration.yaml"} {
		p.Edit(t, name, "acode_farmarcas", database)
	}
	// No test reaches AWS: until UseS3 (or PointBackup) points them at a
	// test's server, serve's monthly config backup, or a test touching an
	// S3 destination by mistake, meets a refused connection at once
	// instead of a DNS lookup of the seed's bucket.
	for _, name := range []string{"destinations/destination_s3_acode/configuration.yaml", "destinations/destination_s3_acode_backup/configuration.yaml"} {
		p.Edit(t, name, "s3_bucket_region: us-east-2", "s3_bucket_region: us-east-2\n  s3_endpoint: "+NoS3Endpoint)
	}
	if s3 != nil {
		p.UseS3(t, s3)
	}
	db.Exec(t,
		"CREATE USER IF NOT EXISTS 'userfarmarcasac02'@'%' IDENTIFIED BY '"+ProjectPassword+"'",
		"GRANT SELECT, SHOW VIEW, REPLICATION CLIENT ON *.* TO 'userfarmarcasac02'@'%'")
	p.Settings(t, "chunk_rows: 2000", "file_size_mb: 1")
	return p
}

// NoS3Endpoint is the s3_endpoint of the S3 destinations of a project
// made without an S3 server: a loopback port nothing listens on.
const NoS3Endpoint = "http://127.0.0.1:1"

// UseS3 points the project's two S3 destinations at a fresh bucket of s3
// (with its credentials; the backup writes under its own path beside the
// primary's): their syncs, and serve's monthly config backup (kept in the
// first failover pair's primary destination), go there.
func (p *Project) UseS3(t testing.TB, s3 *S3Server) {
	t.Helper()
	p.S3 = s3
	p.Bucket = s3.NewBucket(t)
	p.Env["FARMARCAS_AWS_ACCESS_KEY_ID"] = s3.AccessKey
	p.Env["FARMARCAS_AWS_SECRET_ACCESS_KEY"] = s3.SecretKey
	for _, name := range []string{"destinations/destination_s3_acode/configuration.yaml", "destinations/destination_s3_acode_backup/configuration.yaml"} {
		p.Edit(t, name,
			"s3_bucket_name: farmarcas-production-bronze", "s3_bucket_name: "+p.Bucket,
			"s3_endpoint: "+NoS3Endpoint, "s3_endpoint: "+s3.Endpoint,
			"s3_bucket_region: us-east-2", "s3_bucket_region: "+s3.Region)
	}
}

// PointBackup points the backup side at backup (a replica, or the primary
// itself when a test only needs two connections); with an S3 server the
// backup destination is already in the project's bucket (UseS3).
func (p *Project) PointBackup(t testing.TB, backup *MariaDB) {
	t.Helper()
	p.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", "port: 3306", "port: "+strconv.Itoa(backup.Port))
}

// Settings rewrites acode.yaml with the given lines in its sync section.
func (p *Project) Settings(t testing.TB, syncLines ...string) {
	t.Helper()
	body := "state_db: .acode/state.db\nsync:\n"
	for _, l := range syncLines {
		body += "  " + l + "\n"
	}
	writeFile(t, filepath.Join(p.Dir, "acode.yaml"), body)
}

// Edit replaces, in the project file name, each old string with its new one
// (pairs), failing when an old string is absent.
func (p *Project) Edit(t testing.TB, name string, pairs ...string) {
	t.Helper()
	path := filepath.Join(p.Dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s: %q not found", name, pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	writeFile(t, path, s)
}

// Lookup is the project's environment as config.Load wants it.
func (p *Project) Lookup(k string) (string, bool) {
	v, ok := p.Env[k]
	return v, ok
}

// Environ is the process environment plus the project's, for a child acode.
func (p *Project) Environ() []string {
	env := os.Environ()
	for k, v := range p.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// LocalRoot is where the local destination writes.
func (p *Project) LocalRoot() string { return filepath.Join(p.Dir, "demo-data") }

func repoRoot(t testing.TB) string {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(self), "..", "..")
}

func copyTree(t testing.TB, src, dst string) {
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

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
