package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// A run that outlives its first job (a failover pair's run between its
// jobs) reads live through a runner that does not drive it, as long as
// the driving replica is seen, and ended once that run returns.
func TestRunner_ARunBetweenItsJobsIsLiveThroughAnotherRunner(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var st *state.Store
	run := func(ctx context.Context, connection string, opts syncer.Options) (*syncer.Result, error) {
		j, err := st.CreateJob(ctx, connection, "primary", "runner-a")
		if err != nil {
			return nil, err
		}
		_ = opts.OnJobCreated(j)
		if err := st.FinishJob(ctx, j.ID, state.JobFailed, "the primary died", 0, 0); err != nil {
			return nil, err
		}
		<-release // deciding whether to fail over, as a pair's run does
		return &syncer.Result{JobID: j.ID, Connection: connection, Status: string(state.JobFailed)}, nil
	}
	a, store, _ := newRunner(t, 10, Options{Run: run, Owner: "runner-a", RunFresh: 15 * time.Second})
	st = store
	if err := st.SeeReplica(context.Background(), "runner-a", "a:1"); err != nil {
		t.Fatal(err)
	}
	b := sibling(t, a, Options{Owner: "runner-b", RunFresh: 15 * time.Second})
	job, err := a.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	if !b.RunLive(context.Background(), job.ID) || b.Runs(job.ID) {
		t.Errorf("job %d: ended but its run goes on; through the other runner RunLive=%v, want true", job.ID, b.RunLive(context.Background(), job.ID))
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for b.RunLive(context.Background(), job.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("job %d: its run returned, still live through the other runner after 10s", job.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// On a shared state the grant a triggered run carries is the one the
// runner's own write recorded, handed back by OnJobCreated: a claim by
// another replica made right after (before the run's first fenced write)
// is found out by that write, instead of being read back as the run's own
// grant.
func TestRunner_ATriggeredRunCarriesTheGrantItsOpenRecorded(t *testing.T) {
	t.Parallel()
	var st *state.Store
	type seen struct {
		lease   state.RunLease
		claimed state.RunLease
		check   error
	}
	got := make(chan seen, 1)
	run := func(ctx context.Context, connection string, opts syncer.Options) (*syncer.Result, error) {
		j, err := st.CreateJob(ctx, connection, "primary", "runner-a")
		if err != nil {
			return nil, err
		}
		var s seen
		s.lease = opts.OnJobCreated(j)
		s.claimed, err = st.OpenRun(ctx, j.ID, "runner-b") // another replica's claim, in between
		if err != nil {
			t.Errorf("the claim: %v", err)
		}
		s.check = st.CheckRun(ctx, s.lease) // the run's first fenced write
		got <- s
		return &syncer.Result{JobID: j.ID, Connection: connection, Status: string(state.JobFailed)}, s.check
	}
	a, store, _ := newRunner(t, 10, Options{Run: run, Owner: "runner-a", RunFresh: 15 * time.Second})
	st = store
	if _, err := a.Trigger(context.Background(), local); err != nil {
		t.Fatal(err)
	}
	var s seen
	select {
	case s = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not reach its first fenced write in 30s")
	}
	if !s.lease.Fenced() || s.lease.Owner != "runner-a" || s.lease.Epoch == s.claimed.Epoch {
		t.Fatalf("OnJobCreated returned %+v (the claim: %+v); want runner-a's own grant", s.lease, s.claimed)
	}
	if !errors.Is(s.check, state.ErrLostRun) {
		t.Errorf("the run's first fenced write after the claim: %v; want state.ErrLostRun", s.check)
	}
}
