package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/sandbox"
)

// Postgres is a throwaway PostgreSQL cluster (sandbox.Postgres) for tests.
type Postgres struct{ *sandbox.Postgres }

var sharedPG struct {
	once sync.Once
	pg   *Postgres
	dir  string
	err  error
}

// SharedPostgres is one cluster per test binary (initdb takes about a
// second; share it), started on first use and stopped by Main. Tests
// isolate themselves with NewDatabase and must not stop it.
func SharedPostgres(t testing.TB) *Postgres {
	t.Helper()
	SkipShort(t, "PostgreSQL")
	sharedPG.once.Do(func() {
		// Directly under /tmp: the socket path must be short, and the
		// postgres user must be able to reach the directory.
		sharedPG.dir, sharedPG.err = os.MkdirTemp("/tmp", "acode-pg-")
		if sharedPG.err != nil {
			return
		}
		var pg *sandbox.Postgres
		pg, sharedPG.err = sandbox.StartPostgres(sharedPG.dir)
		if sharedPG.err == nil {
			sharedPG.pg = &Postgres{pg}
		}
	})
	if sharedPG.err != nil {
		t.Fatalf("start shared postgres: %v", sharedPG.err)
	}
	return sharedPG.pg
}

// StartPostgres starts a cluster of the test's own (to stop or kill),
// stopped and removed at cleanup.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	SkipShort(t, "PostgreSQL")
	dir, err := os.MkdirTemp("/tmp", "acode-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := sandbox.StartPostgres(dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		_ = pg.Stop()
		os.RemoveAll(dir)
	})
	return &Postgres{pg}
}

// NewDatabase creates a uniquely named database and returns its URL; it is
// dropped at cleanup.
func (p *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := p.CreateDatabase(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.DropDatabase(context.Background(), name) })
	return p.URL(name)
}

func stopSharedPostgres() {
	if sharedPG.pg != nil {
		_ = sharedPG.pg.Stop()
	}
	if sharedPG.dir != "" {
		os.RemoveAll(sharedPG.dir)
	}
}
