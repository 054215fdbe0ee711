package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A chain's run is live while the replica that opened it is seen and has
// not closed it; a silent replica's run counts as ended, and a close by a
// replica that no longer drives the run changes nothing.
func TestRunLive_FollowsTheReplicaThatDrivesTheRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		st := bk.open(t, WithClock(clock.Now))
		j := mustJob(t, st, "conn")
		live := func() bool {
			t.Helper()
			ok, err := st.RunLive(ctx, j.ID, 15*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if live() {
			t.Error("a job no run opened reads live")
		}
		if err := st.SeeReplica(ctx, "hostA:1", "a:1"); err != nil {
			t.Fatal(err)
		}
		la, err := st.OpenRun(ctx, j.ID, "hostA:1")
		if err != nil {
			t.Fatal(err)
		}
		if !live() {
			t.Error("the run of a replica seen now reads ended")
		}
		clock.Advance(20 * time.Second)
		if live() {
			t.Error("the run of a replica silent for 20 s reads live")
		}
		if err := st.SeeReplica(ctx, "hostB:2", "b:2"); err != nil {
			t.Fatal(err)
		}
		lb, err := st.OpenRun(ctx, j.ID, "hostB:2") // B took the chain over
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CloseRun(ctx, la); err != nil {
			t.Fatal(err)
		}
		if !live() {
			t.Error("the stale replica's close ended the run another replica drives")
		}
		if err := st.CloseRun(ctx, lb); err != nil {
			t.Fatal(err)
		}
		if live() {
			t.Error("a closed run reads live")
		}
	})
}

// A run whose replica went silent while its chain had no live job (between
// its jobs, or promoting) is claimed by exactly one other replica, with
// the chain's last job as the step reached; a live replica's run, a run
// with a live job, a closed run and a run that ended long ago are not.
func TestClaimAbandonedRuns_HandsARunBetweenItsJobsToOneReplica(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		st := bk.open(t, WithClock(clock.Now))
		claim := func(owner string) []AbandonedRun {
			t.Helper()
			got, err := st.ClaimAbandonedRuns(ctx, owner, 15*time.Second, 10*time.Minute, func(AbandonedRun) bool { return true })
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		between := mustJob(t, st, "pair_primary")
		if err := st.FinishJob(ctx, between.ID, JobFailed, "primary down", 0, 0); err != nil {
			t.Fatal(err)
		}
		live := mustJob(t, st, "other")
		var stale RunLease
		for _, id := range []int64{between.ID, live.ID} {
			l, err := st.OpenRun(ctx, id, "hostA:1")
			if err != nil {
				t.Fatal(err)
			}
			if id == between.ID {
				stale = l
			}
		}
		if err := st.SeeReplica(ctx, "hostA:1", "a:1"); err != nil {
			t.Fatal(err)
		}
		if got := claim("hostB:2"); len(got) != 0 {
			t.Errorf("the runs of a replica seen now were claimed: %+v", got)
		}
		clock.Advance(20 * time.Second)
		if err := st.SeeReplica(ctx, "hostB:2", "b:2"); err != nil { // the claimer is a live replica
			t.Fatal(err)
		}
		got := claim("hostB:2")
		if len(got) != 1 || got[0].Head != between.ID || got[0].Last.ID != between.ID || got[0].Last.Status != JobFailed || got[0].PrevOwner != "hostA:1" {
			t.Fatalf("claimed %+v; want the run of job %d only, at its failed job", got, between.ID)
		}
		if again := claim("hostC:3"); len(again) != 0 {
			t.Errorf("a claimed run was claimed again: %+v", again)
		}
		if ok, err := st.RunLive(ctx, between.ID, 15*time.Second); err != nil || !ok {
			t.Errorf("the claimed run reads ended: %v %v", ok, err)
		}
		if err := st.CloseRun(ctx, stale); err != nil { // the stopped replica wakes
			t.Fatal(err)
		}
		if ok, _ := st.RunLive(ctx, between.ID, 15*time.Second); !ok {
			t.Error("the stopped replica's close ended the run it lost")
		}
		old := mustJob(t, st, "old_pair")
		if err := st.FinishJob(ctx, old.ID, JobFailed, "primary down", 0, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := st.OpenRun(ctx, old.ID, "hostD:4"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(11 * time.Minute)
		if got := claim("hostC:3"); len(got) != 0 {
			t.Errorf("runs whose last job ended 11 minutes ago were claimed: %+v", got)
		}
	})
}

// The backup's job of a run is created, linked as the continuation of the
// failed one and checked against the run's grant in one transaction: under
// the grant the run holds it is created linked; under a grant a later
// claim replaced (the stalled replica that woke, even on the same host
// name) nothing is created, nothing linked, and the error is ErrLostRun.
func TestCreateContinuingJob_IsLinkedAtOnceAndFencedByTheRunsGrant(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		st := bk.open(t)
		first := mustJob(t, st, "pair_primary")
		if err := st.FinishJob(ctx, first.ID, JobFailed, "primary down", 0, 0); err != nil {
			t.Fatal(err)
		}
		stale, err := st.OpenRun(ctx, first.ID, "hostA:1")
		if err != nil {
			t.Fatal(err)
		}
		current, err := st.OpenRun(ctx, first.ID, "hostA:1") // re-granted: a new epoch
		if err != nil || current.Epoch == stale.Epoch {
			t.Fatalf("second grant %+v (first %+v): %v; want a new epoch", current, stale, err)
		}
		if _, err := st.CreateContinuingJob(ctx, "pair_backup", "backup", "hostA:1", first.ID, stale); !errors.Is(err, ErrLostRun) {
			t.Fatalf("create under a replaced grant: %v; want ErrLostRun", err)
		}
		if got, err := st.ListJobs(ctx, JobFilter{Connection: "pair_backup"}); err != nil || len(got) != 0 {
			t.Fatalf("jobs of the backup after the fenced create: %+v %v; want none", got, err)
		}
		b, err := st.CreateContinuingJob(ctx, "pair_backup", "backup", "hostA:1", first.ID, current)
		if err != nil {
			t.Fatal(err)
		}
		chain, err := st.JobChain(ctx, first.ID)
		if err != nil || len(chain) != 2 || chain[1].ID != b.ID {
			t.Fatalf("chain of job %d: %+v %v; want it continued by job %d", first.ID, chain, err, b.ID)
		}
		if err := st.CheckRun(ctx, stale); !errors.Is(err, ErrLostRun) {
			t.Errorf("CheckRun of a replaced grant: %v; want ErrLostRun", err)
		}
		if err := st.CheckRun(ctx, current); err != nil {
			t.Errorf("CheckRun of the run's grant: %v", err)
		}
	})
}

// The grant a run carries is the one its own OpenRun returned, in the
// write that recorded it: when another claimant takes the run between that
// open and the run's first fenced write (the job takeover of a replica
// that thought this one dead), that first write, whichever it is (a step
// of the pair's machine, the backup's job, the promotion's check), is
// refused with ErrLostRun and changes nothing; the claimant's grant writes.
func TestOpenRun_AClaimBetweenOpenAndTheFirstFencedWriteIsRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		st := bk.open(t)
		first := mustJob(t, st, "pair_primary")
		opened, err := st.OpenRun(ctx, first.ID, "hostA:1")
		if err != nil || !opened.Fenced() || opened.Owner != "hostA:1" {
			t.Fatalf("OpenRun: %+v %v; want a fenced grant to hostA:1", opened, err)
		}
		claimed, err := st.OpenRun(ctx, first.ID, "hostB:2") // the claimant, in between
		if err != nil || claimed.Epoch == opened.Epoch {
			t.Fatalf("the claimant's grant %+v (opened %+v): %v; want a new epoch", claimed, opened, err)
		}
		step := func(fs *FailoverState) ([]FailoverTransition, error) {
			fs.State, fs.Reason = "backup_active", "primary down"
			return []FailoverTransition{{From: "primary_active", To: "backup_active", Who: "auto", Reason: "primary down"}}, nil
		}
		initial := FailoverState{State: "primary_active", Who: "auto"}
		if _, err := st.UpdateFailoverFor(ctx, opened, "pair_primary", initial, step); !errors.Is(err, ErrLostRun) {
			t.Fatalf("machine step under the opened grant: %v; want ErrLostRun", err)
		}
		if fs, err := st.FailoverState(ctx, "pair_primary"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the pair's state after the refused step: %+v %v; want none recorded", fs, err)
		}
		if _, err := st.CreateContinuingJob(ctx, "pair_backup", "backup", "hostA:1", first.ID, opened); !errors.Is(err, ErrLostRun) {
			t.Fatalf("backup's job under the opened grant: %v; want ErrLostRun", err)
		}
		if err := st.CheckRun(ctx, opened); !errors.Is(err, ErrLostRun) {
			t.Fatalf("CheckRun of the opened grant: %v; want ErrLostRun", err)
		}
		if fs, err := st.UpdateFailoverFor(ctx, claimed, "pair_primary", initial, step); err != nil || fs.State != "backup_active" {
			t.Fatalf("machine step under the claimant's grant: %+v %v; want backup_active", fs, err)
		}
		if _, err := st.CreateContinuingJob(ctx, "pair_backup", "backup", "hostB:2", first.ID, claimed); err != nil {
			t.Fatalf("backup's job under the claimant's grant: %v", err)
		}
	})
}
