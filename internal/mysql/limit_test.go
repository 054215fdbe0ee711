package mysql

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestRowLimiter_SharedByConcurrentReads runs the ranges of a 4000-row
// table at once (about 1000 rows each) through one 4000 rows/s limiter:
// together they must take about a second, not the quarter second each would
// take on its own budget.
func TestRowLimiter_SharedByConcurrentReads(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t SELECT seq, 'x' FROM seq_1_to_4000")
	tb := discoverOne(t, db, name, "t")
	ranges, err := PlanRanges(context.Background(), db, tb, 1000)
	if err != nil || len(ranges) < 4 {
		t.Fatalf("plan: %d ranges, %v; want at least 4", len(ranges), err)
	}
	limit := NewRowLimiter(4000)
	start := time.Now()
	var wg sync.WaitGroup
	counts := make([]int64, len(ranges))
	errs := make([]error, len(ranges))
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = ReadRange(context.Background(), db, tb, r, ReadOptions{Limiter: limit}, func([][]byte) error { return nil })
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var total int64
	for i := range ranges {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += counts[i]
	}
	if total != 4000 {
		t.Fatalf("read %d rows, want 4000", total)
	}
	// Shared, the budget takes about 0.9 s; on separate budgets each read
	// would finish in about 0.25 s. The bound sits well between the two so
	// a loaded machine's timer slack cannot flip the verdict.
	if el < 600*time.Millisecond || el > 5*time.Second {
		t.Errorf("4000 rows over %d readers at 4000 rows/s took %s, want about 1 s", len(ranges), el)
	}
}

func TestRowLimiter_IdleTimeEarnsNoBurst(t *testing.T) {
	t.Parallel()
	l := NewRowLimiter(1000)
	ctx := context.Background()
	if err := l.take(ctx, 100); err != nil { // free: the budget starts now
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // idle: no credit for it
	start := time.Now()
	for range 3 {
		if err := l.take(ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 180*time.Millisecond {
		t.Errorf("300 rows at 1000 rows/s after a pause took %s, want about 0.2 s (no burst)", el)
	}
	if NewRowLimiter(0) != nil {
		t.Error("a zero rate must mean no limiter")
	}
	var none *RowLimiter
	if err := none.take(ctx, 1_000_000); err != nil {
		t.Error(err)
	}
}

func TestRowLimiter_CancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	l := NewRowLimiter(10)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = l.take(ctx, 100) // reserves 10 s of budget
	start := time.Now()
	if err := l.take(ctx, 1); err == nil || time.Since(start) > time.Second {
		t.Errorf("take after the context ended: %v after %s", err, time.Since(start))
	}
}
