package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/sandbox"
)

// MariaDBOptions chooses how StartMariaDB configures its server.
type MariaDBOptions = sandbox.Options

// MariaDB is a sandbox server owned by a test: stopped at the test's
// cleanup, with helpers that fail the test instead of returning errors.
type MariaDB struct{ *sandbox.Server }

// StartMariaDB starts a fresh mariadbd in t.TempDir() on a free loopback port
// with binlog ROW and GTID strict mode, and stops it at cleanup.
func StartMariaDB(t testing.TB, opts MariaDBOptions) *MariaDB {
	t.Helper()
	SkipShort(t, "MariaDB")
	s, err := sandbox.Start(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start mariadb: %v", err)
	}
	t.Cleanup(s.Close)
	return &MariaDB{s}
}

// Root is the server's root pool.
func (m *MariaDB) Root(t testing.TB) *sql.DB {
	t.Helper()
	db, err := m.Server.Root()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// Exec runs each statement as root, failing the test on the first error.
func (m *MariaDB) Exec(t testing.TB, statements ...string) {
	t.Helper()
	db := m.Root(t)
	for _, s := range statements {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("exec %q on %s: %v", s, m.Addr(), err)
		}
	}
}

// CreateUser creates user@'%' with password pass, optionally REQUIRE SSL,
// and grants each privilege clause, e.g. "SELECT ON db.*".
func (m *MariaDB) CreateUser(t testing.TB, user, pass string, requireSSL bool, grants ...string) {
	t.Helper()
	stmt := fmt.Sprintf("CREATE USER %s IDENTIFIED BY %s", quoteUser(user), quoteString(pass))
	if requireSSL {
		stmt += " REQUIRE SSL"
	}
	m.Exec(t, stmt)
	for _, g := range grants {
		m.Exec(t, fmt.Sprintf("GRANT %s TO %s", g, quoteUser(user)))
	}
}

// Kill sends SIGKILL to the server, as a crashed primary would.
func (m *MariaDB) Kill(t testing.TB) {
	t.Helper()
	if err := m.Server.Kill(); err != nil {
		t.Fatal(err)
	}
}

// Stop shuts the server down cleanly.
func (m *MariaDB) Stop(t testing.TB) {
	t.Helper()
	if err := m.Server.Stop(); err != nil {
		t.Fatalf("stop mariadb on %s: %v", m.Addr(), err)
	}
}

// Restart starts the server again on the same data directory and port.
func (m *MariaDB) Restart(t testing.TB) {
	t.Helper()
	if err := m.Server.Restart(); err != nil {
		t.Fatal(err)
	}
}

func freePort() (int, error) { return sandbox.FreePort() }

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func quoteUser(user string) string { return quoteString(user) + "@'%'" }
