package cdc

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// Watch hands each call the totals of the call before, and stop waits for
// its goroutine.
func TestStats_WatchHandsOverThePreviousTotalsAndStops(t *testing.T) {
	s := &Stats{}
	var calls atomic.Int64
	seen := make(chan [2]int64, 100)
	stop := s.Watch(context.Background(), 5*time.Millisecond, func(_ context.Context, prev, now Totals) {
		calls.Add(1)
		select {
		case seen <- [2]int64{prev.Changes, now.Changes}:
		default:
		}
	})
	s.landed(&Txn{Changes: make([]Change, 3)})
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case c := <-seen:
			if c[1] == 3 && c[0] == 0 {
				got = true
			}
			if c[0] == 3 && c[1] != 3 {
				t.Fatalf("after the totals reached 3 changes a call saw prev %d now %d", c[0], c[1])
			}
		case <-deadline:
			t.Fatal("no call saw the 3 changes landed")
		}
	}
	stop() // waits for the goroutine: a call still running would be a race here
	n := calls.Load()
	s.landed(&Txn{Changes: make([]Change, 1)})
	if calls.Load() != n {
		t.Errorf("%d calls after stop returned", calls.Load()-n)
	}
}
