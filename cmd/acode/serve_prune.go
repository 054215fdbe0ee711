package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// pruneTimeout bounds one prune: the rest of a large backlog (a first
// run after an upgrade) is deleted by the next, oldest jobs first.
const pruneTimeout = time.Minute

// pruneBatch is how many rows one delete of the sweep removes: a stream
// of a large table holds thousands of range tasks and parts.
const pruneBatch = 1000

// pruneEvery is how often the leader sweeps ended jobs' rows: hourly, or
// every jobs.state_retention when it is shorter.
func pruneEvery(retention time.Duration) time.Duration {
	return min(time.Hour, max(retention, time.Second))
}

// startStatePrune runs, while this replica leads, the sweep of ended jobs'
// range tasks, parts and plans (jobs.state_retention; see
// state.PruneEndedJobs) at start and every pruneEvery.
func startStatePrune(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(pruneEvery(p.Settings.Jobs.StateRetention))
		defer t.Stop()
		for {
			pruneEnded(ctx, log, p, st)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// pruneEnded deletes the range tasks, parts and plans of the jobs that
// ended jobs.state_retention ago: by the leader's sweep, and at the end of
// `acode sync`, so a store only `acode sync` writes (cron, Airflow's bash
// operator) does not grow either. A failure is logged: the next run
// retries it.
func pruneEnded(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store) {
	ctx, cancel := context.WithTimeout(ctx, pruneTimeout)
	defer cancel()
	res, err := st.PruneEndedJobs(ctx, time.Now().UTC().Add(-p.Settings.Jobs.StateRetention), pruneBatch)
	if err != nil && ctx.Err() == nil {
		log.Error("prune ended jobs' range tasks and parts: retried at the next run", "err", err)
	}
	if res.Jobs > 0 {
		log.Info("pruned ended jobs' range tasks and parts", "jobs", res.Jobs,
			"range_tasks", res.RangeTasks, "parts", res.Parts, "plans", res.Plans)
	}
}
