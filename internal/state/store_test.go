package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

func TestOpen_CreatesParentDirAndConfiguresSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "acode.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
		"busy_timeout": "10000",
	} {
		var got string
		if err := s.db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestOpen_MigrationsAreIdempotentAcrossReopen(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		path := bk.fresh(t)
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		job, err := s.CreateJob(ctx, "conn", "primary", "h:1")
		if err != nil {
			t.Fatalf("CreateJob: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for i := 0; i < 2; i++ {
			s, err = Open(ctx, path)
			if err != nil {
				t.Fatalf("reopen %d: %v", i, err)
			}
			v, err := s.SchemaVersion(ctx)
			if err != nil {
				t.Fatalf("SchemaVersion: %v", err)
			}
			if want := migrations[len(migrations)-1].version; v != want {
				t.Errorf("schema version = %d, want %d", v, want)
			}
			var applied int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
				t.Fatal(err)
			}
			if applied != len(migrations) {
				t.Errorf("schema_migrations has %d rows, want %d (a step ran twice?)", applied, len(migrations))
			}
			got, err := s.Job(ctx, job.ID)
			if err != nil {
				t.Fatalf("job lost across reopen: %v", err)
			}
			if got.Connection != "conn" {
				t.Errorf("job connection = %q", got.Connection)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestOpen_RefusesFileFromNewerAcode(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		path := bk.fresh(t)
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '2030-01-01T00:00:00.000000Z')`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err = Open(ctx, path)
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("Open on a newer schema: err = %v, want ErrSchemaTooNew", err)
		}
	})
}

func TestOpen_RejectsPathTheDriverWouldMisread(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "x?mode=ro"))
	if err == nil {
		t.Fatal("Open accepted a path containing '?'")
	}
}

func TestMigrations_AreNumberedOneByOne(t *testing.T) {
	t.Parallel()
	for i, m := range migrations {
		if m.version != i+1 || m.name == "" || m.sql == "" {
			t.Errorf("migration %d = version %d name %q: steps must be numbered 1, 2, 3... with a name and SQL", i, m.version, m.name)
		}
	}
}

func TestMigrate_NewStepAppliesOnceToAnExistingFile(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j := mustJob(t, s, "conn")
		next := migration{len(migrations) + 1, "health history", `CREATE TABLE health_checks (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`}
		steps := append(append([]migration{}, migrations...), next)
		for i := 0; i < 2; i++ { // the second run must be a no-op, not "table already exists"
			if err := migrate(ctx, s.db, steps, time.Now); err != nil {
				t.Fatalf("migrate run %d: %v", i+1, err)
			}
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v != next.version {
			t.Errorf("SchemaVersion = %d, %v; want %d", v, err, next.version)
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO health_checks (name) VALUES ('lag')`); err != nil {
			t.Errorf("new table unusable: %v", err)
		}
		if _, err := s.Job(ctx, j.ID); err != nil {
			t.Errorf("existing data lost by the new step: %v", err)
		}
		// A failing step leaves the file at the previous version.
		broken := migration{next.version + 1, "broken", `CREATE TABLE ok_part (x INTEGER); CREATE TABLE health_checks (y INTEGER)`}
		if err := migrate(ctx, s.db, append(steps, broken), time.Now); err == nil {
			t.Fatal("a failing migration reported success")
		}
		if v, _ := s.SchemaVersion(ctx); v != next.version {
			t.Errorf("after a failed step SchemaVersion = %d, want %d", v, next.version)
		}
		if _, err := s.db.ExecContext(ctx, `SELECT x FROM ok_part`); err == nil {
			t.Error("half of the failed step was kept; a step must be all or nothing")
		}
	})
}

func TestOpen_PostgresErrorsAndPathNeverShowThePassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.SharedPostgres(t)
	const secret = "pw-that-must-not-leak"
	good := strings.Replace(pg.NewDatabase(t), "postgres@", "postgres:"+secret+"@", 1)
	s, err := Open(ctx, good)
	if err != nil {
		t.Fatalf("Open with a password in the URL (trust accepts any): %v", err)
	}
	defer s.Close()
	if strings.Contains(s.Path(), secret) || s.Engine() != "postgres" {
		t.Errorf("Path() = %q engine %q: want the URL with its password masked, engine postgres", s.Path(), s.Engine())
	}
	missing := strings.Replace(good, "/t", "/no_such_db_", 1)
	_, err = Open(ctx, missing)
	if err == nil {
		t.Fatal("Open of a missing database succeeded")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "no_such_db_") {
		t.Errorf("error %q: want it to name the database and never show the password", err)
	}
	if got := RedactURL("postgres://h/db?user=a&password=" + secret); strings.Contains(got, secret) {
		t.Errorf("RedactURL kept a password= parameter: %s", got)
	}
}
