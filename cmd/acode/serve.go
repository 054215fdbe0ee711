package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/cluster"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/server"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// recordTimeout is how long shutdown waits, after the grace period, for
// cancelled jobs to record their end and for the listener to close.
const recordTimeout = 30 * time.Second

func newServeCmd(g *globals) *cobra.Command {
	var (
		listen    string
		queueOnly bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API that Airflow's Airbyte operators drive, and /metrics",
		Long: `Run acode as a service: the Airbyte config API (/api/v1, basic auth) and public
API (/v1, bearer tokens) that Airflow's AirbyteTriggerSyncOperator and
AirbyteJobSensor call unchanged, acode's own API under /api/acode, and
Prometheus metrics at /metrics. A connection runs one job at a time.
Connections with schedule_type basic or cron also run on their schedule
(a run missed while acode was down runs once); manual ones wait for Airflow.
Alerts go to the sinks named in acode.yaml's alerts section.

The API user and password come from the environment variables named in
acode.yaml's serve section (ACODE_API_USER and ACODE_API_PASSWORD by default).
On SIGTERM or SIGINT no new job is accepted, running jobs may finish within
serve.shutdown_grace, then are cancelled and recorded as cancelled; a second
signal exits at once. With a PostgreSQL state_db a sync is queued work that
any replica with a free slot (serve.max_jobs) claims, and on SIGTERM the
jobs another replica can resume are handed back to the queue at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			settings := p.Settings.Serve
			if cmd.Flags().Changed("listen") {
				settings.Listen = listen
			}
			if queueOnly {
				if !isSharedState(p.Settings.StateDB) {
					return &exitError{code: exitConfig, err: errors.New("--queue-only needs a postgres:// state_db that other replicas, which run the jobs, share")}
				}
				settings.MaxJobs = -1
			}
			return serve(cmd.Context(), g.log, p, settings)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "host:port to listen on, e.g. 127.0.0.1:8001 (default: serve.listen in acode.yaml)")
	cmd.Flags().BoolVar(&queueOnly, "queue-only", false, "run no sync job here: serve the APIs, lead when elected, and queue jobs for the other replicas (PostgreSQL state_db)")
	return cmd
}

// serve runs the service until ctx is cancelled (SIGTERM/SIGINT).
func serve(ctx context.Context, log *slog.Logger, p *config.Project, settings config.ServeSettings) error {
	creds, err := server.CredentialsFromEnv(settings, os.LookupEnv)
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	if settings.Auth == config.AuthNone {
		log.Warn("serve.auth is none: anyone who reaches " + settings.Listen + " can start and cancel jobs")
	}
	st, err := state.Open(ctx, p.Settings.StateDB, state.WithLease(jobLease(p.Settings.StateDB)))
	if err != nil {
		return err
	}
	defer st.Close()
	node, err := cluster.Join(ctx, st, cluster.Options{Log: log, Addr: settings.Listen})
	if err != nil {
		return err
	}
	// Resign as soon as the shutdown begins, not after the jobs' grace:
	// another replica takes over the loops at once.
	served := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-served:
		}
		leaveCluster(log, node)
	}()
	defer func() { close(served); leaveCluster(log, node) }()
	reg := metrics.New()
	if err := reg.Jobs.LoadLastSuccess(ctx, st, p.ConnectionNames()); err != nil {
		return err
	}
	alerts, mailer, err := startAlerts(ctx, log, p, st, reg, node.IsLeader)
	if err != nil {
		return err
	}
	defer alerts.Stop() // after the jobs ended: their outcomes are told
	orch := newOrchestrator(log, p, st, alerts, reg)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", settings.Listen)
	if err != nil {
		return &exitError{code: exitConfig, err: fmt.Errorf("listen on %s: %w", settings.Listen, err)}
	}
	sy := &syncer.Syncer{Project: p, State: st, Log: log, SharedRanges: st.Engine() == "postgres"}
	orch.SharedRanges = sy.SharedRanges
	if sy.SharedRanges {
		stopRanges := (&syncer.RangeWorkers{Syncer: sy, Owner: node.ID(), Log: log.With("component", "range_workers")}).Start(ctx)
		defer stopRanges()
	}
	runner := jobs.New(sy, jobs.Options{
		MaxAttempts: settings.JobAttempts,
		RetryDelay:  settings.RetryDelay,
		Grace:       settings.ShutdownGrace,
		ReapEvery:   reapEvery(st),
		OnJobEnd:    onJobEnd(reg, alerts),
		Run:         orch.RunJob,       // a failover pair's jobs read the side its state names
		Resume:      orch.ResumeJob,    // a failover pair's job taken over resumes as the pair's run
		ResumeRun:   orch.ResumeRunJob, // a pair's run abandoned between its jobs or promoting goes on
		TakeOver:    takeOverRule(st),
		Queue:       queueRule(orch),
		MaxJobs:     settings.MaxJobs,
		RunFresh:    runFresh(st),
		Owner:       node.ID(),
	})
	srv, err := server.New(server.Config{
		Project: p, State: st, Runner: runner, Metrics: reg, Log: log,
		Credentials: creds, AuthNone: settings.Auth == config.AuthNone, TokenTTL: settings.TokenTTL,
	})
	if err != nil {
		ln.Close()
		_ = runner.Shutdown(ctx)
		return err
	}
	if err := addStatusPage(log, p, st, srv, reg, alerts, settings, node); err != nil {
		ln.Close()
		_ = runner.Shutdown(ctx)
		return err
	}
	if _, err := newScheduler(log, p, st, runner, alerts, mailer); err != nil { // a bad schedule fails at start
		ln.Close()
		_ = runner.Shutdown(ctx)
		return err
	}
	stopLead := node.WhileLeader(ctx, func(ctx context.Context) {
		leaderLoops(ctx, log, p, st, runner, alerts, mailer, orch, reg)
	})
	defer stopLead()
	stopWatch := exitOnSecondSignal(ctx, log)
	defer stopWatch()
	stopReload := reloadOnSIGHUP(ctx, log, p)
	defer stopReload()
	return srv.Serve(ctx, ln, settings.ShutdownGrace+recordTimeout)
}

// exitOnSecondSignal exits the process at once when a signal arrives after
// ctx was cancelled by the first one: an operator who presses Ctrl-C twice
// does not want to wait for the grace period.
func exitOnSecondSignal(ctx context.Context, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		select {
		case s := <-sig:
			log.Warn("second signal: exiting without waiting for jobs; they will be taken over as abandoned", "signal", s.String())
			os.Exit(exitCancelled)
		case <-done:
		}
	}()
	return func() { close(done); <-finished }
}
