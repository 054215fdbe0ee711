package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
)

// newOrchestrator is the failover orchestration of `acode serve`: a pair's
// jobs run on the side its state machine names (jobs.Options.Run), and the
// health loop's results and every machine decision reach the alerts.
func newOrchestrator(log *slog.Logger, p *config.Project, st *state.Store, mgr *alert.Manager, reg *metrics.Registry) *pairsync.Orchestrator {
	return &pairsync.Orchestrator{
		Project: p, State: st, Log: log,
		OnHealth: func(ctx context.Context, results []health.Result) {
			if err := errors.Join(mgr.HealthResults(ctx, results), mgr.CredentialResults(ctx, p.Sources, results)); err != nil {
				log.Warn("alert on health results", "err", err)
			}
		},
		OnDecision: func(ctx context.Context, d failover.Decision) {
			if err := mgr.Failover(ctx, d); err != nil {
				log.Warn("alert on a failover decision", "pair", d.Pair, "err", err)
			}
		},
		OnJobEnd: onJobEnd(reg, mgr),
	}
}

// startHealthLoop runs every health check every interval
// (the seed's 5 minutes), feeding each pair's failover machine, until ctx
// ends or stop is called; stop waits for the round in flight.
func startHealthLoop(ctx context.Context, log *slog.Logger, o *pairsync.Orchestrator, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		o.Watch(ctx, interval)
	}()
	log.Info("health loop started", "interval", interval, "first_round_in", interval)
	return func() { cancel(); wg.Wait() }
}
