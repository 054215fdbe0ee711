package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/cluster"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
)

// leaderLoops runs, while this replica leads, what the cluster runs once:
// the health round (and the failover decisions it feeds), the schedules
// (with the daily e-mail), the CDC binlog readers, the sweep of ended jobs'
// range tasks and parts, and, through the alert manager's Lead, alert
// evaluation. ctx ends when the leadership is lost or serve stops.
func leaderLoops(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store, runner *jobs.Runner,
	alerts *alert.Manager, mailer *alert.Mailer, orch *pairsync.Orchestrator, reg *metrics.Registry) {
	log.Info("this replica leads: health rounds, failover decisions, alert evaluation, schedules and CDC readers run here")
	if err := alerts.Reload(ctx); err != nil {
		log.Warn("reload alert conditions", "err", err)
	}
	sched, err := newScheduler(log, p, st, runner, alerts, mailer)
	if err != nil {
		log.Error("schedules", "err", err) // checked at start: not reached
		return
	}
	sched.Start(ctx)
	catchUpHealth(ctx, log, st, orch, p.Settings.Health.Interval)
	stopHealth := startHealthLoop(ctx, log, orch, p.Settings.Health.Interval)
	stopCare := startMonthlyCare(ctx, log, p, st)
	stopCDC := startCDCReaders(ctx, log, p, st, reg.CDC, alerts)
	stopCompaction := startDailyCompaction(ctx, log, p, st)
	stopPrune := startStatePrune(ctx, log, p, st)
	<-ctx.Done()
	stopPrune()
	stopCompaction()
	stopCDC()
	stopCare()
	stopHealth()
	sched.Stop()
	log.Info("leader loops stopped")
}

// catchUpHealth runs a health round at once when the newest one in the
// store is older than interval: a new leader continues the rounds of the
// one it replaces instead of waiting a whole interval.
func catchUpHealth(ctx context.Context, log *slog.Logger, st *state.Store, orch *pairsync.Orchestrator, interval time.Duration) {
	latest, err := st.LatestHealth(ctx)
	if err != nil {
		log.Warn("read the last health round", "err", err)
		return
	}
	var newest time.Time
	for _, r := range latest {
		if r.Time.After(newest) {
			newest = r.Time
		}
	}
	if newest.IsZero() || time.Since(newest) < interval {
		return // the first round waits an interval, as a single serve does
	}
	if _, err := orch.HealthRound(ctx); err != nil && ctx.Err() == nil {
		log.Error("health round", "err", err)
	}
}

// leaveCluster resigns the leadership at once (another replica takes over
// without waiting for the lease) and removes this replica's row. It may run
// twice (at the shutdown's start and at serve's end); Leave is idempotent.
func leaveCluster(log *slog.Logger, node *cluster.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Leave(ctx); err != nil {
		log.Warn("leave the cluster", "err", err)
	}
}
