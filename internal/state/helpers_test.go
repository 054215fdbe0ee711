package state

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// fakeClock is a settable clock, so tests age heartbeats without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	// A non-UTC zone on purpose: the store must still store and return UTC.
	return &fakeClock{t: time.Date(2025, 8, 7, 3, 4, 5, 123456789, time.FixedZone("BRT", -3*3600))}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// backend is one engine the store runs on. Every test of the package runs
// once per backend, so both engines answer the same questions the same way.
type backend struct {
	name string
	// fresh returns the location of a new, empty store: a file path in the
	// test's temp dir, or a new database on the shared PostgreSQL cluster.
	fresh func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state", "acode.db") }},
	{"postgres", func(t *testing.T) string { return testenv.SharedPostgres(t).NewDatabase(t) }},
}

// eachBackend runs fn as one subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, bk backend)) {
	t.Helper()
	for _, bk := range backends {
		t.Run(bk.name, func(t *testing.T) { fn(t, bk) })
	}
}

// open opens a fresh store on the backend, closed at cleanup.
func (bk backend) open(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), bk.fresh(t), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// mustJob creates a job or fails the test.
func mustJob(t *testing.T, s *Store, connection string) Job {
	t.Helper()
	j, err := s.CreateJob(context.Background(), connection, "primary", "test-host:1")
	if err != nil {
		t.Fatalf("CreateJob(%s): %v", connection, err)
	}
	return j
}
