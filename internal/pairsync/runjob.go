package pairsync

import (
	"context"
	"errors"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// RunJob fits jobs.Options.Run, for `acode serve`: a job triggered for
// either connection of a failover pair runs as Run with SourceAuto (the
// side the machine names, failing over inside the run), the caller's
// OnJobCreated getting the run's first job; any other connection runs as a
// plain syncer job with opts as given. It returns the last job's result;
// the results of the jobs before it (a primary job that failed over) go to
// OnJobEnd, as the last one goes to the caller.
func (o *Orchestrator) RunJob(ctx context.Context, connection string, opts syncer.Options) (*syncer.Result, error) {
	if _, err := o.Pair(connection); errors.Is(err, ErrNotInPair) {
		s := &syncer.Syncer{Project: o.Project, State: o.State, Log: o.log(), SharedRanges: o.SharedRanges}
		return s.Run(ctx, connection, opts)
	} else if err != nil {
		return nil, err
	}
	rep, err := o.Run(ctx, connection, Options{Source: SourceAuto, Progress: opts.Progress,
		OnJobCreated: opts.OnJobCreated, Owner: opts.Owner, Lease: opts.Lease})
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

// jobError is an error standing for job i's failure, for hooks that want one.
func jobError(rep *Report, i int) error {
	if msg := rep.Jobs[i].Error; msg != "" {
		return errors.New(msg)
	}
	return nil
}

// ResumeJob runs on a job this replica took over from one that died or
// stalled (jobs.Runner's takeover), under its own id. A job outside any
// pair is resumed by the syncer. A pair's job is resumed as the run it
// belonged to: its outcome feeds the pair's state machine, a failure may
// fail over to the other side inside the run (that job continuing this
// one, so the id Airflow holds leads to the outcome), and a backup's
// success is promoted, as RunJob would have done.
func (o *Orchestrator) ResumeJob(ctx context.Context, job state.Job, opts syncer.Options) (*syncer.Result, error) {
	pair, err := o.Pair(job.Connection)
	if errors.Is(err, ErrNotInPair) {
		s := &syncer.Syncer{Project: o.Project, State: o.State, Log: o.log(), SharedRanges: o.SharedRanges}
		return s.Resume(ctx, job, opts)
	} else if err != nil {
		return nil, err
	}
	role := "primary"
	if job.Connection == pair.Backup {
		role = "backup"
	}
	r := &run{o: o, pair: pair, m: o.Machine(pair).ForRun(opts.Lease), rep: &Report{Pair: pair.Primary}, handedOver: true, resume: &job,
		opts: Options{Source: SourceAuto, Progress: opts.Progress, Owner: opts.Owner, Lease: opts.Lease}}
	o.log().Info("resuming a failover pair's job taken over from another replica", "pair", pair.Primary, "job_id", job.ID, "connection", job.Connection)
	err = r.syncFrom(ctx, failover.Decision{Pair: pair.Primary, Sync: job.Connection, Role: role})
	if len(r.rep.Jobs) == 0 {
		return nil, err
	}
	if o.OnJobEnd != nil {
		for i, res := range r.rep.Jobs[:len(r.rep.Jobs)-1] {
			o.OnJobEnd(res, jobError(r.rep, i))
		}
	}
	return r.rep.Last(), err
}
