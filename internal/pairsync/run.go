package pairsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// run is one Run of one pair.
type run struct {
	o    *Orchestrator
	pair failover.Pair
	m    *failover.Machine
	opts Options
	rep  *Report

	handedOver bool      // opts.OnJobCreated has had the first job
	lastJob    int64     // the run's newest job, which a next job continues
	failedAt   time.Time // when the primary's job failed, for FailoverAfter
	// resume, when set, is a job taken over from a replica that died: the
	// run's first job of its connection resumes it instead of creating one.
	resume *state.Job
}

// note records a decision and hands it to the alert hook.
func (r *run) note(ctx context.Context, d failover.Decision) {
	r.rep.Decisions = append(r.rep.Decisions, d)
	if d.Transition != nil {
		r.o.log().Warn("failover transition", "pair", d.Pair, "from", d.Transition.From, "to", d.Transition.To,
			"who", d.Transition.Who, "reason", d.Transition.Reason)
	}
	if r.o.OnDecision != nil {
		r.o.OnDecision(ctx, d)
	}
}

// auto syncs the side the machine names; when the primary's job fails and
// the machine then names the backup, the backup is synced in the same run.
func (r *run) auto(ctx context.Context) error {
	d, err := r.m.Decide(ctx)
	if err != nil {
		return err
	}
	r.note(ctx, d)
	if d.Sync == "" {
		return &NotSyncedError{Decision: d}
	}
	return r.syncFrom(ctx, d)
}

// syncFrom syncs d.Sync and, when its job fails and the machine then
// names the other side, that side in the same run.
func (r *run) syncFrom(ctx context.Context, d failover.Decision) error {
	ran := map[string]bool{}
	for d.Sync != "" && !ran[d.Sync] {
		ran[d.Sync] = true
		var jobErr error
		d, jobErr = r.job(ctx, d.Sync, d.Role, true)
		if jobErr == nil {
			return r.afterSuccess(ctx, d)
		}
		if d.Restore && r.rep.Last() != nil && r.rep.Last().Connection == r.pair.Primary {
			return r.restore(ctx, jobErr) // data_corruption: full_backup_restore
		}
		if ctx.Err() != nil || d.Sync == "" || ran[d.Sync] || lost(jobErr) {
			return jobErr
		}
		r.o.log().Warn("failing over inside the job", "pair", r.pair.Primary, "to", d.Sync, "err", jobErr)
	}
	return nil
}

// forced syncs one side by hand; the outcome still feeds the machine.
func (r *run) forced(ctx context.Context, conn, role string) error {
	d, err := r.job(ctx, conn, role, true)
	if err != nil && d.Restore && conn == r.pair.Primary && r.rep.Last() != nil {
		return r.restore(ctx, err) // data_corruption: full_backup_restore
	}
	if err != nil {
		return err
	}
	return r.afterSuccess(ctx, d)
}

// afterSuccess promotes a backup job's partitions and runs a due reconcile.
func (r *run) afterSuccess(ctx context.Context, d failover.Decision) error {
	last := r.rep.Last()
	if last != nil && last.Connection == r.pair.Backup {
		if r.o.Project.Settings.Jobs.PromoteBackup {
			if err := r.promoteJob(ctx, last); err != nil {
				return err
			}
		}
		if !r.failedAt.IsZero() {
			r.rep.FailoverAfter = last.EndedAt.Sub(r.failedAt)
		}
	}
	// The reconcile of a failback runs once the primary has synced again.
	if len(d.ReconcileDays) > 0 && d.State == failover.PrimaryActive && last != nil && last.Connection == r.pair.Primary {
		return r.reconcile(ctx, d.ReconcileDays)
	}
	return nil
}

// job runs one job of conn with the connection's job policy: retries that
// ask the machine first, and the maximum duration. It returns the machine's
// decision after the job's outcome.
func (r *run) job(ctx context.Context, conn, role string, observe bool) (failover.Decision, error) {
	policy, err := r.o.Project.JobPolicy(conn)
	if err != nil {
		return failover.Decision{}, err
	}
	if driftErr := r.driftCheck(ctx, conn); driftErr != nil {
		d, err := r.observe(ctx, conn, 0, 0, driftErr)
		return d, errors.Join(driftErr, err)
	}
	jobCtx, cancel := withMaxDuration(ctx, policy.MaxDuration)
	defer cancel()
	h := &retryHook{r: r, conn: conn, delay: policy.RetryDelay}
	s := &syncer.Syncer{Project: r.o.Project, State: r.o.State, Log: r.o.log(), SharedRanges: r.o.SharedRanges}
	sopts := syncer.Options{
		Role: role, MaxAttempts: policy.Retries + 1, Retry: h.retry,
		Owner: r.opts.Owner, Progress: r.opts.Progress, OnJobCreated: r.jobCreated,
		Continues: r.lastJob, Lease: r.opts.Lease, // the job is created linked into the run's chain
	}
	var (
		res    *syncer.Result
		jobErr error
	)
	if j := r.resume; j != nil && j.Connection == conn {
		r.resume = nil
		res, jobErr = s.Resume(jobCtx, *j, sopts)
	} else {
		res, jobErr = s.Run(jobCtx, conn, sopts)
	}
	if cause := context.Cause(jobCtx); jobErr != nil && errors.Is(cause, failure.ErrMaxDuration) && !errors.Is(jobErr, failure.ErrMaxDuration) {
		jobErr = fmt.Errorf("%w: %w", cause, jobErr) // the syncer names the cause; this covers a job that never started
	}
	if res != nil {
		r.rep.Jobs = append(r.rep.Jobs, res)
	}
	if lost(jobErr) {
		// Another replica runs the job (or the run) now and tells its
		// outcome: this one says nothing of the source.
		return failover.Decision{}, jobErr
	}
	var id int64
	var attempt int
	if res != nil {
		id, attempt = res.JobID, res.Attempts
	}
	if jobErr != nil && conn == r.pair.Primary && r.failedAt.IsZero() {
		r.failedAt = time.Now() // wall time, like the job records it is compared with
	}
	switch {
	case h.stopped:
		return h.last, jobErr // the hook saw this error already
	case errors.Is(jobErr, failure.ErrMaxDuration):
		d, err := r.cutAtMaxDuration(ctx, conn, id, attempt, jobErr)
		if err != nil {
			return d, errors.Join(jobErr, err)
		}
		return d, jobErr
	case !observe:
		return failover.Decision{}, jobErr
	}
	d, err := r.observe(ctx, conn, id, attempt, jobErr)
	if err != nil {
		return d, errors.Join(jobErr, err)
	}
	return d, jobErr
}

// withMaxDuration is ctx cut after d (a job policy's max_duration), its
// cause failure.ErrMaxDuration, which the job's record keeps as its class.
func withMaxDuration(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("%w (%s)", failure.ErrMaxDuration, d))
}

// cutAtMaxDuration is the machine's decision after attempt of job of conn
// was cut at its maximum duration (jobErr): too slow is not a source
// failure, so the machine learns nothing but that it took the outcome in,
// and the decision carries the critical max_duration alert.
func (r *run) cutAtMaxDuration(ctx context.Context, conn string, job int64, attempt int, jobErr error) (failover.Decision, error) {
	d, err := r.m.DecideAfterJob(ctx, job, attempt)
	if err != nil {
		return d, err
	}
	d.Alerts = append(d.Alerts, failover.Alert{Key: r.pair.Primary + ":max_duration", Severity: failure.Critical,
		Summary: fmt.Sprintf("sync of %s cancelled: %v", conn, jobErr)})
	r.note(ctx, d)
	return d, nil
}

// lost reports whether err says this replica no longer owns the job or
// the run it worked on: another replica goes on with it.
func lost(err error) bool {
	return errors.Is(err, state.ErrLostJob) || errors.Is(err, state.ErrLostRun)
}

// jobCreated hands the run's first job to opts.OnJobCreated and takes up
// the run's grant it returns, and returns the grant the run carries.
// Every later job (the in-job failover's
// backup job) was created as the continuation of the one before it
// (syncer.Options.Continues): the caller polling the first id follows the
// chain to the run's outcome, while each job keeps its own status and
// attempts.
func (r *run) jobCreated(j state.Job) state.RunLease {
	prev := r.lastJob
	r.lastJob = j.ID
	if prev != 0 && prev != j.ID {
		r.o.log().Info("job continued by the failover's job", "job_id", prev, "continued_by", j.ID, "connection", j.Connection)
	}
	if r.handedOver || r.opts.OnJobCreated == nil {
		return r.opts.Lease
	}
	r.handedOver = true
	l := r.opts.OnJobCreated(j)
	if r.opts.Lease == (state.RunLease{}) {
		// The caller recorded the run as it got the job (a shared state):
		// the run's later writes carry the grant that write returned, so a
		// claim made since is found out by the first of them.
		r.opts.Lease, r.m = l, r.m.ForRun(l)
	}
	return r.opts.Lease
}

// observe feeds a job's outcome (attempt of job; 0 when no job ran) to
// the machine. When the primary dropped
// the connection or timed out, its server is probed at once: a dead server
// (refused) is primary_db_down, which fails over now instead of after the
// backoff meant for a flaky network.
func (r *run) observe(ctx context.Context, conn string, job int64, attempt int, jobErr error) (failover.Decision, error) {
	ctx = context.WithoutCancel(ctx) // the outcome is recorded even when the run was cancelled
	d, err := r.m.ObserveJobAttempt(ctx, conn, job, attempt, jobErr)
	if err != nil {
		return d, err
	}
	r.note(ctx, d)
	var se *failure.SourceError
	class := failure.Classify(jobErr)
	if conn != r.pair.Primary || d.Sync == r.pair.Backup || !errors.As(jobErr, &se) ||
		(class != failure.ClassNetworkPartition && class != failure.ClassConnectionTimeout) {
		return d, nil
	}
	probe, ok := r.probePrimary(ctx)
	if ok {
		return d, nil // the server answers: the failure stands as it was classified
	}
	d, err = r.m.ObserveHealth(ctx, PairHealth(r.pair, probe))
	if err != nil {
		return d, err
	}
	r.note(ctx, d)
	return d, nil
}
