package cdc

import (
	"context"
	"sync"
	"time"
)

// Totals are a reader's running totals since it started.
type Totals struct {
	Transactions int64
	Changes      int64
	LastCommit   time.Time // commit time, on MySQL, of the last transaction landed
	Committed    string    // the position last committed
	CommittedAt  time.Time
	// LastLag is the lag of the oldest transaction the last commit held:
	// how far bronze was behind MySQL then.
	LastLag time.Duration
	// LagP50, LagP95 and LagMax are how long after their commit on MySQL
	// the transactions committed so far were committed in the change log
	// (MySQL's commit times have whole seconds).
	LagP50, LagP95, LagMax time.Duration
}

// maxLagSeconds bounds the lag histogram; longer lags count in its last slot.
const maxLagSeconds = 3600

// Stats are updated by a running reader and read by its progress log and
// metrics. A nil *Stats ignores updates.
type Stats struct {
	mu      sync.Mutex
	t       Totals
	waiting map[int64]int64 // MySQL commit second -> transactions landed, not yet committed
	lags    []int64         // lags[s]: transactions committed s seconds after their MySQL commit
}

func (s *Stats) landed(t *Txn) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.Changes += int64(len(t.Changes))
	if t.Partial {
		return
	}
	s.t.Transactions++
	s.t.LastCommit = t.CommitTime
	if s.waiting == nil {
		s.waiting = map[int64]int64{}
	}
	s.waiting[t.CommitTime.Unix()]++
}

// committed records a commit of everything landed so far.
func (s *Stats) committed(p Position) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.t.Committed, s.t.CommittedAt = p.String(), now
	if s.lags == nil {
		s.lags = make([]int64, maxLagSeconds+1)
	}
	oldest := int64(0)
	for sec, n := range s.waiting {
		lag := min(max(now.Unix()-sec, 0), maxLagSeconds)
		oldest = max(oldest, lag)
		s.lags[lag] += n
		delete(s.waiting, sec)
	}
	s.t.LastLag = time.Duration(oldest) * time.Second // 0: nothing was waiting, bronze is current
}

// Snapshot copies the totals.
func (s *Stats) Snapshot() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	t.LagP50, t.LagP95, t.LagMax = s.percentile(0.50), s.percentile(0.95), s.percentile(1)
	return t
}

func (s *Stats) percentile(q float64) time.Duration {
	var total int64
	for _, n := range s.lags {
		total += n
	}
	if total == 0 {
		return 0
	}
	need := int64(q*float64(total) + 0.5)
	var seen int64
	for sec, n := range s.lags {
		seen += n
		if seen >= need && n > 0 {
			return time.Duration(sec) * time.Second
		}
	}
	return maxLagSeconds * time.Second
}

// Watch calls f with the previous and the current Totals every period until
// ctx ends or the returned stop is called; stop waits for the goroutine, so
// f is not running once it returns. The progress log and serve's lag alert
// both read a reader this way.
func (s *Stats) Watch(ctx context.Context, period time.Duration, f func(ctx context.Context, prev, now Totals)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		var prev Totals
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := s.Snapshot()
			f(ctx, prev, now)
			prev = now
		}
	}()
	return func() { cancel(); <-done }
}
