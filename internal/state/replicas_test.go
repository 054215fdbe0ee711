package state

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestClaimScheduleFire_OneOfManyWinsEachSlot(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		loc := bk.fresh(t)
		var stores []*Store
		for range 3 { // three processes' worth of stores on one database
			s, err := Open(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores = append(stores, s)
		}
		slot := time.Date(2025, 8, 7, 3, 0, 0, 0, time.UTC)
		var last time.Time
		for round := range 4 {
			var wins atomic.Int32
			var wg sync.WaitGroup
			for _, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 3 {
						won, err := s.ClaimScheduleFire(ctx, "connection:c", last, slot)
						if err != nil {
							t.Error(err)
						}
						if won {
							wins.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d claims of one slot won, want exactly 1", round, n)
			}
			got, err := stores[0].ScheduleFire(ctx, "connection:c")
			if err != nil || !got.Equal(slot) {
				t.Fatalf("round %d: ScheduleFire = %v, %v; want %v", round, got, err, slot)
			}
			last, slot = slot, slot.Add(time.Hour)
		}
	})
}

func TestReplicas_SeenListedAndForgotten(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		for _, id := range []string{"a:1", "b:2"} {
			if err := s.SeeReplica(ctx, id, "0.0.0.0:8001"); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Second)
		}
		rs, err := s.Replicas(ctx, 10*time.Second)
		if err != nil || len(rs) != 2 || rs[0].ID != "a:1" || rs[1].ID != "b:2" {
			t.Fatalf("Replicas = %+v, %v; want a:1 then b:2", rs, err)
		}
		clock.Advance(9 * time.Second)
		if err := s.SeeReplica(ctx, "b:2", "0.0.0.0:8001"); err != nil {
			t.Fatal(err)
		}
		rs, _ = s.Replicas(ctx, 10*time.Second)
		if len(rs) != 1 || rs[0].ID != "b:2" || !rs[0].StartedAt.Before(rs[0].SeenAt) {
			t.Fatalf("after a:1 went quiet: %+v; want only b:2, started before last seen", rs)
		}
		if err := s.ForgetReplica(ctx, "b:2"); err != nil {
			t.Fatal(err)
		}
		if rs, _ = s.Replicas(ctx, time.Hour); len(rs) != 1 || rs[0].ID != "a:1" {
			t.Errorf("after forgetting b:2: %+v; want only the quiet a:1 within an hour", rs)
		}
		clock.Advance(replicaForgetAfter)
		if err := s.SeeReplica(ctx, "c:3", ""); err != nil {
			t.Fatal(err)
		}
		if rs, _ = s.Replicas(ctx, 24*time.Hour); len(rs) != 1 || rs[0].ID != "c:3" {
			t.Errorf("after a:1 was silent for %v: %+v; want its row gone, only c:3", replicaForgetAfter, rs)
		}
	})
}
