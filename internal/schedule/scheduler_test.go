package schedule

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func openStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// counter is an entry's Run that counts its calls.
type counter struct {
	mu  sync.Mutex
	n   int
	err error
}

func (c *counter) run(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.err
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func tick(t *testing.T, s *Scheduler) time.Time {
	t.Helper()
	next, err := s.Tick(context.Background())
	if err != nil {
		t.Fatalf("Tick: %v", err)
	}
	return next
}

func TestScheduler_CronFiresAtItsSlotAndOnceAfterDowntime(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	clock := &fakeClock{t: utc("2025-08-07T01:00:00Z")}
	var c counter
	entries := []Entry{{Name: "connection_mysql_s3_acode", Spec: mustCron(t, "0 0 2 * * ?", "UTC"), Run: c.run}}
	s, err := New(st, entries, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if next := tick(t, s); c.count() != 0 || !next.Equal(utc("2025-08-07T02:00:00Z")) {
		t.Fatalf("first sight: fired %d, next %s; want no fire, next 02:00", c.count(), next)
	}
	clock.Set(utc("2025-08-07T01:59:59Z"))
	tick(t, s)
	clock.Set(utc("2025-08-07T02:00:00Z"))
	tick(t, s)
	tick(t, s)
	if c.count() != 1 {
		t.Fatalf("at 02:00 fired %d times, want 1", c.count())
	}

	// acode is down for three nights; the first check after it comes back
	// fires once, not three times, and the next slot is tomorrow's.
	clock.Set(utc("2025-08-10T09:30:00Z"))
	restarted, err := New(st, entries, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	next := tick(t, restarted)
	tick(t, restarted)
	if c.count() != 2 || !next.Equal(utc("2025-08-11T02:00:00Z")) {
		t.Errorf("after downtime fired %d times in all (want 2), next %s (want 2025-08-11T02:00Z)", c.count(), next)
	}
	if at, err := st.ScheduleFire(context.Background(), "connection_mysql_s3_acode"); err != nil || !at.Equal(clock.Now()) {
		t.Errorf("recorded fire = %s, %v; want %s", at, err, clock.Now())
	}
}

func TestScheduler_CronSlotMissedBeforeFirstFireStillRuns(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	clock := &fakeClock{t: utc("2025-08-07T01:00:00Z")}
	var c counter
	entries := []Entry{{Name: "conn", Spec: mustCron(t, "0 0 2 * * ?", "UTC"), Run: c.run}}
	s, _ := New(st, entries, Options{Now: clock.Now})
	tick(t, s) // seen at 01:00, then acode stops before 02:00
	clock.Set(utc("2025-08-07T03:00:00Z"))
	s, _ = New(st, entries, Options{Now: clock.Now})
	tick(t, s)
	if c.count() != 1 {
		t.Errorf("the 02:00 slot missed while down fired %d times after the restart, want 1", c.count())
	}
}

func TestScheduler_BasicFiresAtOnceThenEveryInterval(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	clock := &fakeClock{t: utc("2025-08-07T10:00:00Z")}
	every6h, _ := Every(6, "hours")
	var c counter
	s, err := New(st, []Entry{{Name: "c", Spec: every6h, FireFirst: true, Run: c.run}}, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if next := tick(t, s); c.count() != 1 || !next.Equal(utc("2025-08-07T16:00:00Z")) {
		t.Fatalf("first tick: fired %d, next %s", c.count(), next)
	}
	clock.Set(utc("2025-08-07T15:59:00Z"))
	tick(t, s)
	clock.Set(utc("2025-08-07T16:00:30Z"))
	tick(t, s)
	if c.count() != 2 {
		t.Errorf("fired %d times, want 2", c.count())
	}
}

func TestScheduler_FailedRunWaitsForItsNextSlot(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	clock := &fakeClock{t: utc("2025-08-07T10:00:00Z")}
	every, _ := Every(1, "hours")
	c := counter{err: errors.New("connection already has a live job")}
	s, _ := New(st, []Entry{{Name: "c", Spec: every, FireFirst: true, Run: c.run}}, Options{Now: clock.Now})
	tick(t, s)
	tick(t, s)
	if c.count() != 1 {
		t.Errorf("a failed run was retried at once: %d runs", c.count())
	}
}

func TestNew_DropsManualEntriesAndRefusesDuplicates(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	every, _ := Every(1, "hours")
	var c counter
	s, err := New(st, []Entry{{Name: "manual", Spec: nil, Run: c.run}, {Name: "b", Spec: every, Run: c.run}}, Options{})
	if err != nil || len(s.Entries()) != 1 || s.Entries()[0].Name != "b" {
		t.Fatalf("New = %v, %v; want only b", s, err)
	}
	if _, err := New(st, []Entry{{Name: "b", Spec: every, Run: c.run}, {Name: "b", Spec: every, Run: c.run}}, Options{}); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestScheduler_StartFiresDueEntryAndStopWaits(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	every, _ := Every(1, "hours")
	fired := make(chan struct{}, 10)
	s, err := New(st, []Entry{{Name: "c", Spec: every, FireFirst: true, Run: func(context.Context) error {
		fired <- struct{}{}
		return nil
	}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("a due entry did not fire after Start")
	}
	s.Stop()
	s.Stop() // idempotent
	if len(fired) != 0 {
		t.Errorf("fired %d more times within the hour", len(fired))
	}
}
