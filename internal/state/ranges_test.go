package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

// rangeJob is a running job with a running first attempt and n queued
// ranges of stream "s" on source "src" with the given read budget.
func rangeJob(t *testing.T, s *Store, n, budget int) (Job, Attempt) {
	t.Helper()
	ctx := context.Background()
	j := mustJob(t, s, "conn")
	a, err := s.StartAttemptAs(ctx, j.ID, "test-host:1")
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for i := range n {
		idx = append(idx, i)
	}
	if err := s.QueueRanges(ctx, j.ID, "s", "src", budget, a.Number, idx); err != nil {
		t.Fatal(err)
	}
	return j, a
}

func mustClaim(t *testing.T, s *Store, owner string) RangeTask {
	t.Helper()
	task, ok, err := s.ClaimRange(context.Background(), owner, 30*time.Second)
	if err != nil || !ok {
		t.Fatalf("ClaimRange(%s): %+v %v %v, want a task", owner, task, ok, err)
	}
	return task
}

func TestRangeTasks_AClaimTakesOneReadOfTheSourceBudgetUntilTheReadEnds(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		rangeJob(t, s, 5, 2)
		a := mustClaim(t, s, "host-a:1")
		b := mustClaim(t, s, "host-b:1")
		if a.Index != 0 || b.Index != 1 || a.Connection != "conn" || a.Source != "src" {
			t.Fatalf("claims %+v %+v, want ranges 0 and 1 of conn's job on src", a, b)
		}
		if task, ok, err := s.ClaimRange(ctx, "host-c:1", 30*time.Second); err != nil || ok {
			t.Fatalf("a third claim with a budget of 2: %+v %v %v, want none", task, ok, err)
		}
		if err := s.EndRead(ctx, a); err != nil {
			t.Fatal(err)
		}
		if c := mustClaim(t, s, "host-c:1"); c.Index != 2 {
			t.Fatalf("after a read ended: claimed range %d, want 2", c.Index)
		}
	})
}

func TestRangeTasks_AnExpiredClaimIsReclaimedAndTheStalledWorkerCannotRecord(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		j, _ := rangeJob(t, s, 1, 2)
		stalled := mustClaim(t, s, "host-a:1")
		clock.Advance(31 * time.Second)
		if err := s.RenewRange(ctx, stalled, 30*time.Second); err != nil {
			t.Fatalf("renewing an expired claim nobody took yet: %v", err)
		}
		clock.Advance(31 * time.Second)
		heir := mustClaim(t, s, "host-b:1")
		if heir.Index != stalled.Index || heir.Claim <= stalled.Claim {
			t.Fatalf("reclaim: %+v after %+v, want the same range under a newer claim", heir, stalled)
		}
		part := Part{JobID: j.ID, Stream: "s", Key: "k0", Ranges: []int{0}, Rows: 10, SourceRows: -1, Nulled: map[string]int64{"Data": 2},
			Stats: `{"spec":"x","rows":10}`}
		if err := s.RecordRangePart(ctx, stalled, part); !errors.Is(err, ErrLostRange) {
			t.Fatalf("the stalled worker's record: %v, want ErrLostRange", err)
		}
		if err := s.RenewRange(ctx, stalled, time.Minute); !errors.Is(err, ErrLostRange) {
			t.Fatalf("the stalled worker's renewal: %v, want ErrLostRange", err)
		}
		if err := s.RecordRangePart(ctx, heir, part); err != nil {
			t.Fatal(err)
		}
		tasks, err := s.RangeTasks(ctx, j.ID, "s")
		if err != nil || len(tasks) != 1 || tasks[0].Status != RangeDone || tasks[0].PartKey != "k0" || tasks[0].Owner != "host-b:1" {
			t.Fatalf("tasks: %+v %v, want range 0 done by host-b with part k0", tasks, err)
		}
		if parts, _ := s.Parts(ctx, j.ID, "s"); len(parts) != 1 || parts[0].Nulled["Data"] != 2 || parts[0].Stats != part.Stats {
			t.Fatalf("parts: %+v, want one with 2 nulled values of Data and its statistics", parts)
		}
		if _, ok, _ := s.ClaimRange(ctx, "host-c:1", time.Minute); ok {
			t.Fatal("a done range was claimed again")
		}
	})
}

func TestRangeTasks_ANewAttemptRequeuesUnfinishedRangesAndFencesTheOldClaims(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j, first := rangeJob(t, s, 2, 2)
		old := mustClaim(t, s, "host-a:1")
		if err := s.FinishAttempt(ctx, j.ID, first.Number, AttemptFailed, "superseded"); err != nil {
			t.Fatal(err)
		}
		part := Part{JobID: j.ID, Stream: "s", Key: "k", Ranges: []int{old.Index}, SourceRows: -1}
		if err := s.RecordRangePart(ctx, old, part); !errors.Is(err, ErrLostJob) {
			t.Fatalf("record under a failed attempt: %v, want ErrLostJob", err)
		}
		second, err := s.StartAttemptAs(ctx, j.ID, "test-host:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.QueueRanges(ctx, j.ID, "s", "src", 2, second.Number, []int{0, 1}); err != nil {
			t.Fatal(err)
		}
		again := mustClaim(t, s, "host-b:1")
		if again.Index != old.Index || again.Attempt != second.Number || again.Claim <= old.Claim {
			t.Fatalf("after re-queue: %+v, want range %d of attempt %d under a newer claim than %d", again, old.Index, second.Number, old.Claim)
		}
		if err := s.RecordRangePart(ctx, again, part); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRangeTasks_ARangeFailedThreeTimesFailsAndIsNotClaimedAgain(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j, _ := rangeJob(t, s, 1, 1)
		for n := 1; n <= MaxRangeFailures; n++ {
			task := mustClaim(t, s, "host-a:1")
			if err := s.FailRange(ctx, task, errors.New("read range: boom")); err != nil {
				t.Fatal(err)
			}
		}
		tasks, err := s.RangeTasks(ctx, j.ID, "s")
		if err != nil || len(tasks) != 1 || tasks[0].Status != RangeFailed || tasks[0].Error != "read range: boom" {
			t.Fatalf("tasks: %+v %v, want one failed with its error", tasks, err)
		}
		if _, ok, _ := s.ClaimRange(ctx, "host-b:1", time.Minute); ok {
			t.Fatal("a failed range was claimed again")
		}
		if err := s.DeleteRangeTasks(ctx, j.ID, "s"); err != nil {
			t.Fatal(err)
		}
		if tasks, _ := s.RangeTasks(ctx, j.ID, "s"); len(tasks) != 0 {
			t.Fatalf("tasks after delete: %+v", tasks)
		}
	})
}

func TestRangeTasks_AReleasedRangeIsClaimedAtOnceAndARenewalSeesTheJobEnd(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j, _ := rangeJob(t, s, 1, 1)
		first := mustClaim(t, s, "host-a:1")
		if err := s.ReleaseRange(ctx, first); err != nil {
			t.Fatal(err)
		}
		next := mustClaim(t, s, "host-b:1")
		if next.Index != first.Index || next.Claim <= first.Claim {
			t.Fatalf("after a release: %+v, want the same range under a newer claim than %d", next, first.Claim)
		}
		tasks, _ := s.RangeTasks(ctx, j.ID, "s")
		if len(tasks) != 1 || tasks[0].Failures != 0 || !tasks[0].Reading {
			t.Fatalf("tasks: %+v, want one read by host-b, no failure counted", tasks)
		}
		if err := s.FinishJob(ctx, j.ID, JobCancelled, "cancelled", -1, -1); err != nil {
			t.Fatal(err)
		}
		if err := s.RenewRange(ctx, next, time.Minute); !errors.Is(err, ErrJobEnded) {
			t.Fatalf("renewal after the job was cancelled: %v, want ErrJobEnded", err)
		}
	})
}

func TestRangeTasks_ASourceAtItsBudgetDoesNotHoldBackAnotherSource(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		rangeJob(t, s, claimBatch+10, 1) // more queued ranges on src than one claim reads
		other := mustJob(t, s, "conn-b")
		a, err := s.StartAttemptAs(ctx, other.ID, "test-host:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.QueueRanges(ctx, other.ID, "s", "src-b", 1, a.Number, []int{0}); err != nil {
			t.Fatal(err)
		}
		if first := mustClaim(t, s, "host-a:1"); first.Source != "src" {
			t.Fatalf("first claim: %+v, want the older job's range on src", first)
		}
		if next := mustClaim(t, s, "host-b:1"); next.Source != "src-b" || next.JobID != other.ID {
			t.Fatalf("with src at its budget: claimed %+v, want the range on src-b", next)
		}
	})
}
