package state

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// A queued job waits past the lease without being failed or taken over,
// holds its connection's slot, is claimed by exactly one of several
// racing replicas, and once released by its owner (a shutdown) is queued
// again with the releasing attempt fenced off.
func TestQueue_ClaimOnceReleaseAndClaimAgain(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		st := bk.open(t, WithClock(clock.Now), WithLease(40*time.Second))
		j, err := st.EnqueueJob(ctx, "conn", "primary")
		if err != nil || !j.Queued() || j.Status != JobPending {
			t.Fatalf("enqueue: %+v %v", j, err)
		}
		clock.Advance(time.Hour)
		if reaped, err := st.ReapAbandoned(ctx); err != nil || len(reaped) != 0 {
			t.Errorf("a queued job was reaped: %+v %v", reaped, err)
		}
		all := func(Job) bool { return true }
		if got, err := st.ClaimAbandoned(ctx, "hostA:1", all); err != nil || len(got) != 0 {
			t.Errorf("a queued job was taken over as abandoned: %+v %v", got, err)
		}
		var busy *AlreadyRunningError
		if _, err := st.CreateJob(ctx, "conn", "primary", "hostA:1"); !errors.As(err, &busy) || busy.JobID != j.ID {
			t.Errorf("a job beside the queued one: %v, want AlreadyRunningError for job %d", err, j.ID)
		}
		if dead, err := st.JobDead(ctx, j.ID); err != nil || dead {
			t.Errorf("JobDead of a queued job: %v %v, want false", dead, err)
		}
		if got, _ := st.ClaimQueued(ctx, "hostA:1", 1, func(Job) bool { return false }); len(got) != 0 {
			t.Errorf("claimed a job the rule refuses: %+v", got)
		}

		owners := []string{"hostA:1", "hostB:2", "hostC:3"}
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won []string
		)
		for _, o := range owners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := st.ClaimQueued(ctx, o, 4, all)
				if err != nil {
					t.Errorf("claim by %s: %v", o, err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, g := range got {
					if g.ID == j.ID && g.Owner == o {
						won = append(won, o)
					}
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("job %d claimed by %v, want exactly one replica", j.ID, won)
		}
		first := won[0]
		att, err := st.StartAttemptAs(ctx, j.ID, first)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ReleaseJob(ctx, j.ID, "hostZ:9", "shutting down"); !errors.Is(err, ErrLostJob) {
			t.Errorf("release by a replica that does not own the job: %v, want ErrLostJob", err)
		}
		if err := st.ReleaseJob(ctx, j.ID, first, "handed off: "+first+" shuts down"); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordPart(ctx, Part{JobID: j.ID, Stream: "s", Key: "k", Ranges: []int{0}, Attempt: att.Number}); !errors.Is(err, ErrLostJob) {
			t.Errorf("part record of the released attempt: %v, want ErrLostJob", err)
		}
		if err := st.HeartbeatAs(ctx, j.ID, first); !errors.Is(err, ErrLostJob) {
			t.Errorf("heartbeat of the releasing replica: %v, want ErrLostJob", err)
		}
		again, err := st.ClaimQueued(ctx, "hostB:2", 1, all)
		if err != nil || len(again) != 1 || again[0].ID != j.ID || again[0].Status != JobRunning {
			t.Fatalf("claim after the release: %+v %v, want job %d running", again, err, j.ID)
		}
		next, err := st.StartAttemptAs(ctx, j.ID, "hostB:2")
		if err != nil || next.Number != att.Number+1 {
			t.Fatalf("attempt of the new owner: %+v %v", next, err)
		}
		atts, _ := st.Attempts(ctx, j.ID)
		if len(atts) != 2 || atts[0].Status != AttemptFailed || atts[0].Error != "handed off: "+first+" shuts down" {
			t.Errorf("attempts: %+v, want the first failed as handed off", atts)
		}
	})
}

// A queued job cancelled before any replica claims it is never claimed.
func TestQueue_CancelledBeforeTheClaim(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		st := bk.open(t)
		j, err := st.EnqueueJob(ctx, "conn", "primary")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.FinishJob(ctx, j.ID, JobCancelled, "cancelled", -1, -1); err != nil {
			t.Fatal(err)
		}
		if got, err := st.ClaimQueued(ctx, "hostA:1", 1, func(Job) bool { return true }); err != nil || len(got) != 0 {
			t.Errorf("claimed a cancelled job: %+v %v", got, err)
		}
	})
}
