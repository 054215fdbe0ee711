package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// Store keeps the last fire time of every entry; *state.Store is one.
// ClaimScheduleFire is a compare-and-set: of several schedulers on one
// store (replicas overlapping during a leader change) one claims a slot.
type Store interface {
	ScheduleFire(ctx context.Context, name string) (time.Time, error) // state.ErrNotFound when never
	ClaimScheduleFire(ctx context.Context, name string, last, at time.Time) (bool, error)
}

var _ Store = (*state.Store)(nil)

// Entry is one thing the scheduler fires.
type Entry struct {
	Name string // unique; the key of its last fire time in the store
	Spec Spec
	// FireFirst makes an entry that never fired due at once, as Airbyte
	// runs a new connection with a basic schedule right away. Otherwise the
	// first time the scheduler sees an entry only starts its clock.
	FireFirst bool
	// Run does the work. It should return quickly (trigger a job, do not
	// wait for it); the scheduler runs entries one after the other.
	Run func(ctx context.Context) error
}

// Options tune a Scheduler.
type Options struct {
	Now  func() time.Time // the clock; time.Now when nil
	Log  *slog.Logger
	Poll time.Duration // longest sleep between checks, so clock jumps are noticed; 1m when 0
}

// Scheduler fires entries when due. Create it with New, run it with Start
// and Stop, or drive it with Tick (tests, with an injected clock).
type Scheduler struct {
	store   Store
	entries []Entry
	now     func() time.Time
	log     *slog.Logger
	poll    time.Duration

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a scheduler of entries; entries without a Spec are dropped
// (manual schedules never fire). Names must be unique.
func New(store Store, entries []Entry, opts Options) (*Scheduler, error) {
	s := &Scheduler{store: store, now: opts.Now, log: opts.Log, poll: opts.Poll}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.poll <= 0 {
		s.poll = time.Minute
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Spec == nil {
			continue
		}
		if e.Name == "" || e.Run == nil {
			return nil, errors.New("schedule: every entry needs a name and a Run func")
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("schedule: entry %q listed twice", e.Name)
		}
		seen[e.Name] = true
		s.entries = append(s.entries, e)
	}
	return s, nil
}

// Entries returns the entries that can fire.
func (s *Scheduler) Entries() []Entry { return append([]Entry(nil), s.entries...) }

// Tick fires every entry that is due now, each once however many of its
// slots passed since it last fired, and returns the time the next one is
// due (zero when none ever is). An entry's fire is claimed in the store
// before Run, so a slot fires once even when several schedulers share the
// store; a failing Run is logged and waits for its next slot instead of
// being retried on every tick.
func (s *Scheduler) Tick(ctx context.Context) (time.Time, error) {
	var (
		next time.Time
		errs []error
	)
	for _, e := range s.entries {
		due, err := s.fireIfDue(ctx, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	return next, errors.Join(errs...)
}

// fireIfDue fires e if due and returns when it is due next.
func (s *Scheduler) fireIfDue(ctx context.Context, e Entry) (time.Time, error) {
	now := s.now()
	last, err := s.store.ScheduleFire(ctx, e.Name)
	switch {
	case errors.Is(err, state.ErrNotFound) && !e.FireFirst:
		// First sight: start the clock, so a slot missed while acode was
		// down later still counts.
		if _, err := s.store.ClaimScheduleFire(ctx, e.Name, time.Time{}, now); err != nil {
			return time.Time{}, err
		}
		return e.Spec.Next(now), nil
	case errors.Is(err, state.ErrNotFound):
		last = time.Time{} // due at once
	case err != nil:
		return time.Time{}, err
	default:
		if due := e.Spec.Next(last); due.IsZero() || now.Before(due) {
			return due, nil
		}
	}
	won, err := s.store.ClaimScheduleFire(ctx, e.Name, last, now)
	if err != nil {
		return time.Time{}, err
	}
	if !won {
		s.log.Info("schedule slot already fired by another process", "entry", e.Name)
		return e.Spec.Next(now), nil
	}
	s.log.Info("schedule fired", "entry", e.Name, "schedule", e.Spec.String())
	if err := e.Run(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("scheduled run failed", "entry", e.Name, "err", err)
	}
	return e.Spec.Next(now), nil
}

// Start runs the scheduler in a goroutine until Stop or ctx's end.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go s.loop(ctx, s.done)
}

// Stop ends the goroutine started by Start and waits for it, including a
// Run in progress.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (s *Scheduler) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	if len(s.entries) == 0 {
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for first := true; ; first = false {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		next, err := s.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("schedule check failed", "err", err)
		}
		if first && ctx.Err() == nil {
			// Once per start: what was due has fired, and when the next
			// slot is (a missed slot fired once, or waits for its time).
			s.log.Info("schedules checked", "entries", len(s.entries), "next_due", next)
		}
		wait := s.poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.now()), 0))
		}
		timer.Reset(wait)
	}
}
