package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

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
	retention := p.Settings.Jobs.StateRetention
	go func() {
		defer close(done)
		t := time.NewTicker(pruneEvery(retention))
		defer t.Stop()
		for {
			res, err := st.PruneEndedJobs(ctx, time.Now().UTC().Add(-retention), pruneBatch)
			if err != nil && ctx.Err() == nil {
				log.Error("prune ended jobs' range tasks and parts: retried at the next sweep", "err", err)
			}
			if res.Jobs > 0 {
				log.Info("pruned ended jobs' range tasks and parts", "jobs", res.Jobs,
					"range_tasks", res.RangeTasks, "parts", res.Parts, "plans", res.Plans)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
