package cdc

import (
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
}

// Stats are updated by a running reader and read by its progress log and
// metrics. A nil *Stats ignores updates.
type Stats struct {
	mu sync.Mutex
	t  Totals
}

func (s *Stats) landed(t *Txn) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.Transactions++
	s.t.Changes += int64(len(t.Changes))
	s.t.LastCommit = t.CommitTime
}

func (s *Stats) committed(p Position) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.Committed, s.t.CommittedAt = p.String(), time.Now()
}

// Snapshot copies the totals.
func (s *Stats) Snapshot() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t
}
