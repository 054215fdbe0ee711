package pairsync

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// abandon records job head's run as driven by a replica that is gone (a
// kill -9 leaves exactly this: run_owner set, no replica row seen since),
// and claims it as another replica's takeover does.
func (e *env) abandon(head int64) state.AbandonedRun {
	e.t.Helper()
	if _, err := e.st.OpenRun(e.ctx, head, "killed-host:1"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.SeeReplica(e.ctx, "survivor:2", "s:2"); err != nil {
		e.t.Fatal(err)
	}
	runs, err := e.st.ClaimAbandonedRuns(e.ctx, "survivor:2", 15*time.Second, 10*time.Minute, func(state.AbandonedRun) bool { return true })
	if err != nil || len(runs) != 1 || runs[0].Head != head {
		e.t.Fatalf("claim the abandoned run of job %d: %+v %v", head, runs, err)
	}
	return runs[0]
}

// The primary's job failed on a dead primary and the replica driving the
// run died before the backup's job was recorded: the run taken over runs
// the backup's job as the continuation of the failed one, so the id the
// caller holds ends succeeded, and promotes a complete snapshot.
func TestResumeRun_AbandonedBetweenItsJobsRunsTheBackupsJobAndPromotes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.healthy()
	e.primary.Kill(t)
	rep, err := e.run(Options{Source: SourcePrimary}) // the primary's job alone: the run stops where a kill would
	if err == nil || len(rep.Jobs) != 1 || rep.Jobs[0].Status != "failed" {
		t.Fatalf("the primary's job on a dead primary: %+v %v", rep, err)
	}
	head := rep.Jobs[0].JobID
	if e.state() != failover.BackupActive {
		t.Fatalf("state %s after the primary's failure", e.state())
	}
	a := e.abandon(head)
	res, err := e.o.ResumeRun(e.ctx, a.Last, Options{Owner: "survivor:2"})
	if err != nil {
		t.Fatalf("resume the run: %v (%+v)", err, res)
	}
	chain, err := e.st.JobChain(e.ctx, head)
	if err != nil || len(chain) != 2 || chain[0].Status != state.JobFailed || chain[1].Connection != backupConn || chain[1].Status != state.JobSucceeded {
		t.Fatalf("chain of job %d: %+v %v; want the failed primary's job continued by the backup's, succeeded", head, chain, err)
	}
	to := promotedDiario(t, res)
	if m := e.manifestAt(to); m.Status != "promoted" || m.JobID != chain[1].ID {
		t.Errorf("primary layout's manifest: status %s job %d", m.Status, m.JobID)
	}
	e.checkComplete(to, e.replica)
}

// The backup's job succeeded and the replica died while promoting it: the
// run taken over redoes the promotion from the commits the state holds,
// and the primary's layout gets the backup's complete snapshot.
func TestResumeRun_AbandonedWhilePromotingRedoesThePromotion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.healthy()
	e.writeSettings("", "1\n  promote_backup: false") // the backup's job commits, nothing is promoted: a kill before promotion
	e.open()
	rep, err := e.run(Options{Source: SourceBackup})
	if err != nil || len(rep.Jobs) != 1 || rep.Jobs[0].Status != "succeeded" || len(rep.Promotions) != 0 {
		t.Fatalf("the backup's job: %+v %v", rep, err)
	}
	head := rep.Jobs[0].JobID
	e.writeSettings("", "1")
	e.open()
	a := e.abandon(head)
	res, err := e.o.ResumeRun(e.ctx, a.Last, Options{Owner: "survivor:2"})
	if err != nil {
		t.Fatalf("resume the run: %v (%+v)", err, res)
	}
	to := promotedDiario(t, res)
	if m := e.manifestAt(to); m.Status != "promoted" || m.Source.Role != "backup" || m.JobID != head {
		t.Errorf("primary layout's manifest: status %s role %s job %d", m.Status, m.Source.Role, m.JobID)
	}
	e.checkComplete(to, e.replica)
	again, err := e.o.ResumeRun(e.ctx, a.Last, Options{Owner: "survivor:2"})
	if err != nil {
		t.Fatalf("redo the promotion again: %v", err)
	}
	for _, p := range again.Promotions {
		if p.Stream == diario && p.Skipped == "" {
			t.Errorf("a second redo promoted %s again: %+v", diario, p)
		}
	}
	e.checkComplete(to, e.replica)
}

// The primary's job failed on a dead primary and its replica died before
// the failover machine took that outcome in (the job is recorded failed,
// the pair still primary_active): the run taken over feeds the recorded
// outcome once (its class, on the source side) and fails over, so the id
// the caller holds ends succeeded through the backup's job; the machine
// counts the failure once, and a second look finds it taken in already.
func TestResumeRun_AbandonedBeforeTheMachineLearntThePrimarysFailureFailsOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.healthy()
	e.primary.Kill(t)
	s := &syncer.Syncer{Project: e.o.Project, State: e.st, Log: e.o.log()}
	res, err := s.Run(e.ctx, primaryConn, syncer.Options{Role: "primary"}) // the job alone: the machine hears nothing
	if err == nil || res == nil || res.Status != "failed" {
		t.Fatalf("the primary's job on a dead primary: %+v %v", res, err)
	}
	head := res.JobID
	if j, err := e.st.Job(e.ctx, head); err != nil || j.ErrorClass != string(failure.ClassPrimaryDBDown) || !j.ErrorOnSource {
		t.Fatalf("job %d as recorded: %+v %v; want its class primary_db_down on the source", head, j, err)
	}
	if e.state() != failover.PrimaryActive {
		t.Fatalf("state %s before the run was continued; want primary_active (the outcome not fed)", e.state())
	}
	a := e.abandon(head)
	if _, err := e.o.ResumeRun(e.ctx, a.Last, Options{Owner: "survivor:2", Lease: a.Lease}); err != nil {
		t.Fatalf("resume the run: %v", err)
	}
	if e.state() != failover.BackupActive {
		t.Errorf("state %s after the run was continued; want backup_active", e.state())
	}
	chain, err := e.st.JobChain(e.ctx, head)
	if err != nil || len(chain) != 2 || chain[1].Connection != backupConn || chain[1].Status != state.JobSucceeded {
		t.Fatalf("chain of job %d: %+v %v; want the failed primary's job continued by the backup's, succeeded", head, chain, err)
	}
	fs, err := e.st.FailoverState(e.ctx, primaryConn)
	if err != nil || fs.Failures != 1 || fs.ObservedJob == head {
		t.Errorf("failover state %+v %v; want one failure counted, the backup's job the newest observed", fs, err)
	}
	m := e.o.Machine(failover.Pair{Primary: primaryConn, Backup: backupConn})
	if ok, err := m.Observed(e.ctx, chain[1].ID, 1); err != nil || !ok {
		t.Errorf("the backup job's outcome taken in: %v %v", ok, err)
	}
}

// A replica that stalled and lost the run to another (whose claim is a new
// grant) records nothing of it when it wakes: neither the backup's job nor
// a step of the failover machine.
func TestResumeRun_UnderAReplacedGrantRecordsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.healthy()
	e.primary.Kill(t)
	rep, err := e.run(Options{Source: SourcePrimary})
	if err == nil || len(rep.Jobs) != 1 {
		t.Fatalf("the primary's job on a dead primary: %+v %v", rep, err)
	}
	head := rep.Jobs[0].JobID
	stale := e.abandon(head)
	if _, err := e.st.OpenRun(e.ctx, head, "other:3"); err != nil { // another replica holds the run now
		t.Fatal(err)
	}
	before, err := e.st.FailoverState(e.ctx, primaryConn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.o.ResumeRun(e.ctx, stale.Last, Options{Owner: "survivor:2", Lease: stale.Lease})
	if !errors.Is(err, state.ErrLostRun) {
		t.Fatalf("resume under a replaced grant: %v; want ErrLostRun", err)
	}
	if jobs, err := e.st.ListJobs(e.ctx, state.JobFilter{Connection: backupConn}); err != nil || len(jobs) != 0 {
		t.Errorf("backup jobs after the fenced resume: %+v %v; want none", jobs, err)
	}
	if after, err := e.st.FailoverState(e.ctx, primaryConn); err != nil || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("failover state updated at %v, was %v (%v); want untouched", after.UpdatedAt, before.UpdatedAt, err)
	}
}

// The primary's job was cut at its maximum duration and its replica died
// before telling the machine: the job's record keeps the cut's own class
// (max_duration, on neither side), so the replica continuing the run
// counts no failure of the primary: the pair stays primary_active, no
// backup job joins the chain, and the outcome is taken in, once, with the
// critical max_duration alert a live driver would have raised.
func TestResumeRun_AbandonedAfterAMaxDurationCutCountsNoSourceFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 3000})
	e.writeSettings("  max_rows_per_second: 300", "0\n  max_duration: 2s")
	e.open()
	e.healthy()
	policy, err := e.o.Project.JobPolicy(primaryConn)
	if err != nil {
		t.Fatal(err)
	}
	jobCtx, cancel := withMaxDuration(e.ctx, policy.MaxDuration) // as the run cuts its job
	defer cancel()
	s := &syncer.Syncer{Project: e.o.Project, State: e.st, Log: e.o.log()}
	res, err := s.Run(jobCtx, primaryConn, syncer.Options{Role: "primary"}) // the job alone: the machine hears nothing
	if !errors.Is(err, failure.ErrMaxDuration) || res == nil || res.Status != "failed" {
		t.Fatalf("the primary's job cut at 2 s: %+v %v", res, err)
	}
	head := res.JobID
	if j, err := e.st.Job(e.ctx, head); err != nil || j.ErrorClass != string(failure.ClassMaxDuration) || j.ErrorOnSource {
		t.Fatalf("job %d as recorded: class %q on source %v (%v); want max_duration on neither side", head, j.ErrorClass, j.ErrorOnSource, err)
	}
	a := e.abandon(head)
	rep, err := e.o.ResumeRun(e.ctx, a.Last, Options{Owner: "survivor:2", Lease: a.Lease})
	if err != nil {
		t.Fatalf("resume the run: %v", err)
	}
	fs, err := e.st.FailoverState(e.ctx, primaryConn)
	if err != nil || fs.State != string(failover.PrimaryActive) || fs.Failures != 0 || fs.LastClass != "" {
		t.Errorf("failover state %+v %v; want primary_active with no failure counted", fs, err)
	}
	if chain, err := e.st.JobChain(e.ctx, head); err != nil || len(chain) != 1 {
		t.Errorf("chain of job %d: %+v %v; want the cut job alone", head, chain, err)
	}
	m := e.o.Machine(failover.Pair{Primary: primaryConn, Backup: backupConn})
	if ok, err := m.Observed(e.ctx, head, 1); err != nil || !ok {
		t.Errorf("the cut job's outcome taken in: %v %v", ok, err)
	}
	if d := rep.Decision(); !slices.ContainsFunc(d.Alerts, func(a failover.Alert) bool {
		return a.Key == primaryConn+":max_duration" && a.Severity == failure.Critical
	}) {
		t.Errorf("decision of the continued run: %+v; want the max_duration alert", d)
	}
}
