package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// startDailyCompaction runs, while this replica leads, the daily CDC
// compaction at start and every hour (it does its work once a day), in a
// loop of its own: the monthly care's slow uploads do not hold it up.
func startDailyCompaction(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			dailyCompaction(ctx, log, p, st)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// dailyCompaction compacts every CDC stream up to yesterday, once a day
// (cdc.compact; see cdc.CompactDaily).
func dailyCompaction(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store) {
	if !p.Settings.CDC.Compact {
		return
	}
	conns := cdc.Connections(p)
	if len(conns) == 0 {
		return
	}
	ran, res, err := cdc.CompactDaily(ctx, &cdc.Compactor{Project: p, Log: log, State: st}, st, conns, time.Now().UTC())
	if err != nil && ctx.Err() == nil {
		log.Error("daily cdc compaction: retried in an hour", "err", err)
	}
	if ran && err == nil {
		log.Info("daily cdc compaction done", "connections", len(conns), "days", len(res))
	}
}
