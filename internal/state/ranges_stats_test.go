package state

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestRangeStats_CountQueuedClaimedReadingExpiredAndFailedTasksOfLiveJobsPerSource(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		// An ended job's leftover queued tasks are no work: not counted.
		ended := mustJob(t, s, "conn_ended")
		if err := s.QueueRanges(ctx, ended.ID, "s", "src", 3, 1, []int{0, 1, 2}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishJob(ctx, ended.ID, JobFailed, "gone", 0, 0); err != nil {
			t.Fatal(err)
		}
		rangeJob(t, s, 5, 3) // source "src", budget 3, ranges 0-4
		reading := mustClaim(t, s, "w:1")
		uploading := mustClaim(t, s, "w:2")
		if err := s.EndRead(ctx, uploading); err != nil {
			t.Fatal(err)
		}
		for i := range MaxRangeFailures { // range 2 fails three times
			failing := mustClaim(t, s, "w:3")
			if failing.Index != 2 {
				t.Fatalf("failure %d: claimed range %d, want 2", i+1, failing.Index)
			}
			if err := s.FailRange(ctx, failing, errors.New("read failed")); err != nil {
				t.Fatal(err)
			}
		}
		mustClaim(t, s, "w:4") // range 3, whose lease runs out below
		clock.Advance(40 * time.Second)
		for _, task := range []RangeTask{reading, uploading} {
			if err := s.RenewRange(ctx, task, 30*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		other := mustJob(t, s, "conn2")
		a, err := s.StartAttemptAs(ctx, other.ID, "test-host:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.QueueRanges(ctx, other.ID, "s", "other", 1, a.Number, []int{0, 1}); err != nil {
			t.Fatal(err)
		}

		got, err := s.RangeStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []SourceRanges{
			{Source: "other", Budget: 1, Queued: 2},
			{Source: "src", Budget: 3, Queued: 1, Claimed: 2, Expired: 1, Reads: 1, Failed: 1},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("RangeStats =\n%+v\nwant\n%+v", got, want)
		}
	})
}
