package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// jobWithRows creates a running job of connection with n range tasks,
// n parts and a plan on each of two streams.
func jobWithRows(t *testing.T, s *Store, connection string, n int) Job {
	t.Helper()
	ctx := context.Background()
	j := mustJob(t, s, connection)
	a, err := s.StartAttemptAs(ctx, j.ID, "test-host:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"s1", "s2"} {
		var idx []int
		for i := range n {
			idx = append(idx, i)
			p := Part{JobID: j.ID, Stream: stream, Key: fmt.Sprintf("%s/%03d.parquet", stream, i), Ranges: []int{i}}
			if err := s.RecordPart(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.QueueRanges(ctx, j.ID, stream, "src", 2, a.Number, idx); err != nil {
			t.Fatal(err)
		}
		if err := s.SavePlan(ctx, j.ID, stream, []byte(`{"ranges":[]}`)); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// rowsOf counts a job's rows in each pruned table, both streams together.
func rowsOf(t *testing.T, s *Store, jobID int64) (tasks, parts, plans int) {
	t.Helper()
	ctx := context.Background()
	for _, stream := range []string{"s1", "s2"} {
		ts, err := s.RangeTasks(ctx, jobID, stream)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := s.Parts(ctx, jobID, stream)
		if err != nil {
			t.Fatal(err)
		}
		_, ok, err := s.Plan(ctx, jobID, stream)
		if err != nil {
			t.Fatal(err)
		}
		tasks, parts = tasks+len(ts), parts+len(ps)
		if ok {
			plans++
		}
	}
	return tasks, parts, plans
}

func TestPrune_EndedJobsLoseTheirRangeTasksPartsAndPlansLiveAndRecentOnesKeepThem(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		const n = 7 // more than a batch of 3: the deletes loop
		succeeded := jobWithRows(t, s, "ok", n)
		failed := jobWithRows(t, s, "bad", n)
		cancelled := jobWithRows(t, s, "stop", n)
		running := jobWithRows(t, s, "live", n)
		incomplete := jobWithRows(t, s, "retry", n)
		for _, e := range []struct {
			j  Job
			st JobStatus
		}{{succeeded, JobSucceeded}, {failed, JobFailed}, {cancelled, JobCancelled}, {incomplete, JobIncomplete}} {
			if err := s.SetJobStatus(ctx, e.j.ID, e.st, ""); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(48 * time.Hour)
		recent := jobWithRows(t, s, "recent", n)
		if err := s.FinishJob(ctx, recent.ID, JobSucceeded, "", 0, 0); err != nil {
			t.Fatal(err)
		}

		res, err := s.PruneEndedJobs(ctx, clock.Now().Add(-24*time.Hour), 3)
		if err != nil {
			t.Fatal(err)
		}
		want := PruneResult{Jobs: 3, RangeTasks: 3 * 2 * n, Parts: 3 * 2 * n, Plans: 3 * 2}
		if res != want {
			t.Errorf("PruneEndedJobs = %+v, want %+v", res, want)
		}
		for _, j := range []Job{succeeded, failed, cancelled} {
			if tasks, parts, plans := rowsOf(t, s, j.ID); tasks+parts+plans != 0 {
				t.Errorf("ended job %d keeps %d range tasks, %d parts, %d plans; want none", j.ID, tasks, parts, plans)
			}
			if got, err := s.Job(ctx, j.ID); err != nil || got.ID != j.ID {
				t.Errorf("Job(%d) after the prune = %+v, %v; want the job's history kept", j.ID, got, err)
			}
		}
		for name, j := range map[string]Job{"running": running, "incomplete": incomplete, "recently ended": recent} {
			if tasks, parts, plans := rowsOf(t, s, j.ID); tasks != 2*n || parts != 2*n || plans != 2 {
				t.Errorf("%s job %d keeps %d range tasks, %d parts, %d plans; want %d, %d, 2", name, j.ID, tasks, parts, plans, 2*n, 2*n)
			}
		}
		if res, err := s.PruneEndedJobs(ctx, clock.Now().Add(-24*time.Hour), 3); err != nil || res != (PruneResult{}) {
			t.Errorf("second PruneEndedJobs = %+v, %v; want nothing left to delete", res, err)
		}
	})
}
