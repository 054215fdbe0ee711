package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/schedule"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// startAlerts builds the alert sinks from acode.yaml and the environment,
// registers acode_alerts_total on reg and starts the manager's loop. The
// caller stops it after the jobs have ended, so their outcomes are told.
func startAlerts(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store, reg *metrics.Registry,
	lead func() bool) (*alert.Manager, *alert.Mailer, error) {
	setup, err := alert.FromSettings(p.Settings.Alerts, os.LookupEnv)
	if err != nil {
		return nil, nil, &exitError{code: exitConfig, err: err}
	}
	cfg := setup.Config
	cfg.Store, cfg.Log, cfg.Lead = st, log, lead
	mgr, err := alert.New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	reg.MustRegister(mgr.Collectors()...)
	if len(setup.Active) == 0 {
		log.Warn("no alert sink is configured: set the variables named in acode.yaml's alerts section (e.g. ACODE_SLACK_WEBHOOK_URL) to be told about failures")
	} else {
		log.Info("alerts on", "sinks", setup.Active)
	}
	mgr.Start(ctx)
	return mgr, setup.Mailer, nil
}

// onJobEnd feeds every ended job to the metrics and the alerts; it fits
// jobs.Options.OnJobEnd and does not block.
func onJobEnd(reg *metrics.Registry, mgr *alert.Manager) func(*syncer.Result, error) {
	return func(res *syncer.Result, err error) {
		reg.Jobs.Observe(res, err)
		if res == nil {
			return
		}
		mgr.QueueSyncEnded(alert.SyncOutcome{Connection: res.Connection, JobID: res.JobID, Status: res.Status,
			Error: res.Error, Attempts: res.Attempts, Source: res.Source})
	}
}

// newScheduler returns the scheduler of the connections' schedules,
// each fire triggering a job on runner, and of the daily status e-mail
// when one is configured.
func newScheduler(log *slog.Logger, p *config.Project, st *state.Store, runner *jobs.Runner,
	mgr *alert.Manager, mailer *alert.Mailer) (*schedule.Scheduler, error) {
	entries, err := schedule.ConnectionEntries(p, log, func(connection string) func(context.Context) error {
		return func(ctx context.Context) error { return runner.TriggerScheduled(ctx, connection) }
	})
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	if mailer != nil {
		a := p.Settings.Alerts
		e, err := schedule.DailyEmail(a.Email, func(ctx context.Context) error {
			return mgr.SendDailyReport(ctx, mailer, a.System, a.StatusPageURL, time.Now())
		})
		if err != nil {
			return nil, &exitError{code: exitConfig, err: err}
		}
		entries = append(entries, e)
		reports, err := reportEntries(p, st, mailer)
		if err != nil {
			return nil, &exitError{code: exitConfig, err: err}
		}
		entries = append(entries, reports...)
	}
	return schedule.New(st, entries, schedule.Options{Log: log})
}
