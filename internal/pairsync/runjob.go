package pairsync

import (
	"context"
	"errors"

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
		OnJobCreated: opts.OnJobCreated, Owner: opts.Owner})
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
