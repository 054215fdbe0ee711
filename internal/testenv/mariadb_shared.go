package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/acode-dev/acode/internal/sandbox"
)

var shared struct {
	once sync.Once
	m    *MariaDB
	dir  string
	err  error
}

var dbSeq atomic.Int64

// SharedMariaDB is one plain instance per test binary for tests that only
// need "a MariaDB" (install takes seconds; share it). Packages that use it
// call testenv.Main from TestMain so the server stops when the tests end.
// Tests must isolate themselves with NewDatabase and must not Kill it.
func SharedMariaDB(t testing.TB) *MariaDB {
	t.Helper()
	SkipShort(t, "MariaDB")
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "acode-mariadb-")
		if shared.err != nil {
			return
		}
		var srv *sandbox.Server
		srv, shared.err = sandbox.Start(shared.dir, MariaDBOptions{})
		if shared.err == nil {
			shared.m = &MariaDB{srv}
		}
	})
	if shared.err != nil {
		t.Fatalf("start shared mariadb: %v", shared.err)
	}
	return shared.m
}

// Main runs the package's tests, then runs atExit (a TestMain's own
// cleanup: a defer in TestMain never runs, since Main ends the process) and
// stops the shared instances (MariaDB, PostgreSQL). Call it from TestMain:
// func TestMain(m *testing.M) { testenv.Main(m) }.
func Main(m *testing.M, atExit ...func()) {
	code := m.Run()
	for _, f := range atExit {
		f()
	}
	stopSharedPostgres()
	if shared.m != nil {
		shared.m.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// NewDatabase creates a uniquely named database, dropped at cleanup.
func (m *MariaDB) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	m.Exec(t, "CREATE DATABASE `"+name+"`")
	t.Cleanup(func() {
		// The server may be gone already (shared instance stopped, killed).
		_, _ = m.Root(t).ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
	})
	return name
}
