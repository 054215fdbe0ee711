package mysql

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// rootConfig connects as root to database on m, plain text.
func rootConfig(m *testenv.MariaDB, database string) ConnConfig {
	return ConnConfig{Host: m.Host, Port: m.Port, Database: database, User: "root", TLSMode: TLSDisabled}
}

// openShared opens a pool on a fresh database of the shared server.
func openShared(t *testing.T) (*testenv.MariaDB, *sql.DB, string) {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	name := m.NewDatabase(t)
	db, err := Open(context.Background(), rootConfig(m, name))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return m, db, name
}

func mustExec(t *testing.T, db *sql.DB, statements ...string) {
	t.Helper()
	for _, s := range statements {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}

func discoverOne(t *testing.T, db *sql.DB, database, table string) schema.Table {
	t.Helper()
	tables, err := Discover(context.Background(), db, database, []string{table})
	if err != nil {
		t.Fatalf("discover %s: %v", table, err)
	}
	return tables[0]
}

func asError[T error](err error, target *T) bool { return errors.As(err, target) }
