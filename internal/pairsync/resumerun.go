package pairsync

import (
	"context"
	"fmt"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// ResumeRun continues a failover pair's run that a replica abandoned with
// no job of its chain live (state.ClaimAbandonedRuns), from last, the
// chain's last job, which records the step the run had reached:
//
//   - the primary's job failed and the machine names the backup: the run
//     was between its jobs; the backup's job runs now, continuing last, so
//     the id Airflow holds leads to its outcome, and its success is
//     promoted;
//   - the backup's job succeeded: the run was promoting; the promotion of
//     every stream it committed is redone (promotion skips a partition
//     already promoted from the same snapshot).
//
// Any other step is a run that had ended: nothing runs. A connection
// outside any pair gives ErrNotInPair.
func (o *Orchestrator) ResumeRun(ctx context.Context, last state.Job, opts Options) (*Report, error) {
	pair, err := o.Pair(last.Connection)
	if err != nil {
		return nil, err
	}
	r := &run{o: o, pair: pair, m: o.Machine(pair).ForRun(opts.Lease), opts: opts, rep: &Report{Pair: pair.Primary}, handedOver: true, lastJob: last.ID}
	switch {
	case last.Status == state.JobFailed && last.Connection == pair.Primary:
		d, err := r.primaryOutcome(ctx, last)
		if err != nil {
			return r.rep, err
		}
		if d.Sync != pair.Backup {
			return r.rep, nil // the run ended with its primary's job: the machine does not fail over
		}
		o.log().Warn("continuing a failover pair's run abandoned between its jobs", "pair", pair.Primary, "job_id", last.ID, "to", d.Sync)
		d, err = r.job(ctx, d.Sync, d.Role, true)
		if err != nil {
			return r.rep, err
		}
		return r.rep, r.afterSuccess(ctx, d)
	case last.Status == state.JobSucceeded && last.Connection == pair.Backup && o.Project.Settings.Jobs.PromoteBackup:
		o.log().Warn("redoing the promotion of a failover pair's run abandoned while promoting", "pair", pair.Primary, "job_id", last.ID)
		res, err := o.committed(ctx, last)
		if err != nil {
			return r.rep, err
		}
		return r.rep, r.promoteJob(ctx, res)
	}
	return r.rep, nil
}

// primaryOutcome is the machine's decision after the primary's failed job
// last. The replica that ran it may have died before feeding its outcome
// to the machine: then it is fed now, as recorded with the job (its class
// and side), so the run fails over as it would have (a job cut at its
// maximum duration, failure.ClassMaxDuration, counts against no source);
// an outcome the machine took in already is not fed twice.
func (r *run) primaryOutcome(ctx context.Context, last state.Job) (failover.Decision, error) {
	attempts, err := r.o.State.Attempts(ctx, last.ID)
	if err != nil {
		return failover.Decision{}, fmt.Errorf("the attempts of job %d: %w", last.ID, err)
	}
	observed, err := r.m.Observed(ctx, last.ID, len(attempts))
	if err != nil {
		return failover.Decision{}, err
	}
	if observed {
		d, err := r.m.Decide(ctx)
		if err == nil {
			r.note(ctx, d)
		}
		return d, err
	}
	r.o.log().Warn("feeding the failover machine the outcome of the primary's job the stopped replica had not", "pair", r.pair.Primary,
		"job_id", last.ID, "attempt", len(attempts), "class", last.ErrorClass)
	jobErr := failure.Recorded(failure.Class(last.ErrorClass), last.ErrorOnSource, last.Error)
	if failure.Classify(jobErr) == failure.ClassMaxDuration {
		return r.cutAtMaxDuration(ctx, last.Connection, last.ID, len(attempts), jobErr) // too slow: no source failure
	}
	return r.observe(ctx, last.Connection, last.ID, len(attempts), jobErr)
}

// committed is the result of job as far as promotion needs it: the
// streams it committed with their manifests, read from the state.
func (o *Orchestrator) committed(ctx context.Context, job state.Job) (*syncer.Result, error) {
	since := job.CreatedAt
	cs, err := o.State.Commits(ctx, job.Connection, "", since)
	if err != nil {
		return nil, fmt.Errorf("the commits of job %d: %w", job.ID, err)
	}
	res := &syncer.Result{JobID: job.ID, Connection: job.Connection, Source: job.Source, Status: string(job.Status)}
	for _, c := range cs {
		if c.JobID != job.ID || c.Status != state.CommitCommitted || c.ManifestKey == "" {
			continue
		}
		res.Streams = append(res.Streams, syncer.StreamResult{Name: c.Stream, Status: syncer.StreamCommitted, Partition: c.Partition, Manifest: c.ManifestKey})
	}
	return res, nil
}

// ResumeRunJob fits jobs.Options.ResumeRun, for `acode serve`: ResumeRun
// from last, returning the result of the job it ran (nil when it only
// promoted or found the run ended); earlier ones go to OnJobEnd.
func (o *Orchestrator) ResumeRunJob(ctx context.Context, last state.Job, opts syncer.Options) (*syncer.Result, error) {
	rep, err := o.ResumeRun(ctx, last, Options{Source: SourceAuto, Progress: opts.Progress, Owner: opts.Owner, Lease: opts.Lease})
	if rep == nil || len(rep.Jobs) == 0 {
		return nil, err
	}
	if o.OnJobEnd != nil {
		for i, res := range rep.Jobs[:len(rep.Jobs)-1] {
			o.OnJobEnd(res, jobError(rep, i))
		}
	}
	return rep.Last(), err
}
