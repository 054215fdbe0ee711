package state

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
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

// openTemp opens a fresh store in the test's temp dir, closed at cleanup.
func openTemp(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state", "acode.db"), opts...)
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
