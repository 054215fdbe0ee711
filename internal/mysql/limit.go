package mysql

import (
	"context"
	"sync"
	"time"
)

// RowLimiter caps the rows per second of every read that shares it, however
// many run at once: a job's max_rows_per_second spares the source during
// production hours whatever its parallelism. Idle time earns no credit, so
// a pause is not followed by a burst. A nil *RowLimiter does not limit.
type RowLimiter struct {
	perRow time.Duration
	batch  int64 // rows a reader takes at a time: a tenth of a second's worth

	mu   sync.Mutex
	next time.Time // when the budget is free again
}

// NewRowLimiter returns a limiter of rowsPerSecond, or nil (no limit) when
// it is not positive.
func NewRowLimiter(rowsPerSecond int) *RowLimiter {
	if rowsPerSecond <= 0 {
		return nil
	}
	return &RowLimiter{perRow: time.Second / time.Duration(rowsPerSecond), batch: max(1, int64(rowsPerSecond)/10)}
}

// take reserves rows and waits until the budget allows them.
func (l *RowLimiter) take(ctx context.Context, rows int64) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	wait := l.next.Sub(now)
	l.next = l.next.Add(time.Duration(rows) * l.perRow)
	l.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
