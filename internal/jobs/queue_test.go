package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

func every(string) bool       { return true }
func everyJob(state.Job) bool { return true }

// sibling starts another runner on r's project and state, as a second
// replica would, shut down at the test's end.
func sibling(t *testing.T, r *Runner, opts Options) *Runner {
	t.Helper()
	s := &syncer.Syncer{Project: r.syncer.Project, State: r.syncer.State, Log: r.log}
	o := New(s, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := o.Shutdown(ctx); err != nil {
			t.Errorf("shutdown of the sibling: %v", err)
		}
	})
	return o
}

// A runner that runs no job itself (a queue-only replica) queues the job
// it is asked for; a runner on the same state with a free slot claims it
// and runs it to its end under the id the first one handed out.
func TestRunner_AQueuedJobRunsOnTheRunnerWithAFreeSlot(t *testing.T) {
	t.Parallel()
	a, st, _ := newRunner(t, 600, Options{Queue: every, MaxJobs: -1, Owner: "runner-a"})
	job, err := a.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != state.JobPending || !job.Queued() {
		t.Fatalf("trigger returned %+v, want a queued pending job", job)
	}
	if stored, _ := st.Job(context.Background(), job.ID); !stored.Queued() {
		t.Fatalf("job %d in the store: %+v, want queued (no owner)", job.ID, stored)
	}
	sibling(t, a, Options{Queue: every, MaxJobs: 1, Owner: "runner-b", ClaimEvery: 50 * time.Millisecond})
	end := waitEnd(t, st, job.ID)
	if end.Status != state.JobSucceeded || end.Owner != "runner-b" || end.Rows != 600+1000+360 {
		t.Errorf("job ended %+v, want succeeded by runner-b with 1960 rows", end)
	}
}

// Cancelling a job still queued ends it at once; no runner claims it.
func TestRunner_CancelOfAQueuedJob(t *testing.T) {
	t.Parallel()
	a, st, _ := newRunner(t, 10, Options{Queue: every, MaxJobs: -1, Owner: "runner-a"})
	job, err := a.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Cancel(context.Background(), job.ID)
	if err != nil || got.Status != state.JobCancelled || !strings.Contains(got.Error, "queue") {
		t.Fatalf("cancel of a queued job: %+v %v, want cancelled while queued", got, err)
	}
	if claimed, _ := st.ClaimQueued(context.Background(), "runner-b", 1, everyJob); len(claimed) != 0 {
		t.Errorf("a cancelled job was claimed: %+v", claimed)
	}
}

// A runner that shuts down does not make its jobs wait out the grace: it
// stops each where its parts are recorded, hands it back to the queue, and
// another runner resumes it under its id (the parts already uploaded are
// not read again) to success.
func TestRunner_ShutdownHandsTheJobToAnotherRunner(t *testing.T) {
	t.Parallel()
	a, st, _ := newRunner(t, 3000, Options{Queue: every, TakeOver: everyJob, Owner: "runner-a", Grace: time.Minute}, slow...)
	conn, _ := a.syncer.Project.Connection(local)
	job, err := a.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for parts := 0; parts == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("job %d uploaded no part in 60s", job.ID)
		}
		time.Sleep(50 * time.Millisecond)
		for _, s := range conn.SelectedStreams() {
			ps, _ := st.Parts(context.Background(), job.ID, s.Name)
			parts += len(ps)
		}
	}
	start := time.Now()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("shutdown took %v: the job waited for the grace instead of moving", took)
	}
	released, _ := st.Job(context.Background(), job.ID)
	if released.Status.Terminal() || !released.Queued() {
		t.Fatalf("job %d after the shutdown: %+v, want live and queued", job.ID, released)
	}
	sibling(t, a, Options{Queue: every, TakeOver: everyJob, Owner: "runner-b", ClaimEvery: 50 * time.Millisecond})
	end := waitEnd(t, st, job.ID)
	if end.Status != state.JobSucceeded || end.Owner != "runner-b" {
		t.Fatalf("job ended %+v, want succeeded by runner-b", end)
	}
	atts, _ := st.Attempts(context.Background(), job.ID)
	if len(atts) != 2 || atts[0].Status != state.AttemptFailed || atts[1].Status != state.AttemptSucceeded {
		t.Errorf("attempts: %+v, want runner-a's failed, runner-b's succeeded", atts)
	}
}
