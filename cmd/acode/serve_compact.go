package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

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
