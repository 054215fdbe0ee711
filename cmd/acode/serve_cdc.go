package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
)

// cdcRetryMax bounds the pause before a halted reader is started again.
const cdcRetryMax = 5 * time.Minute

// cdcConnections names the connections whose source reads the binlog
// (replication_method CDC) and have incremental streams to land: each gets
// one long-running reader on the leader.
func cdcConnections(log *slog.Logger, p *config.Project) []string {
	var out []string
	for _, name := range p.ConnectionNames() {
		c := p.Connections[name]
		if c == nil || c.Source == nil || c.Source.ReplicationMethod != config.ReplicationCDC {
			continue
		}
		if _, err := cdc.Streams(c); err != nil {
			// Another connection on the same source may land its changes;
			// this one's full_refresh streams stay with its syncs.
			log.Info("no cdc reader for this connection", "connection", name, "reason", err)
			continue
		}
		if err := cdc.CheckOneReader(p, name); err != nil {
			log.Error("no cdc reader for this connection", "connection", name, "err", err)
			continue
		}
		out = append(out, name)
	}
	return out
}

// startCDCReaders runs, while this replica leads, one binlog reader per CDC
// connection until ctx ends (leadership lost or serve stopping); stop waits
// for every reader to commit what it holds and return. The connection's
// file lock keeps a reader of another process (a foreground `acode cdc`, a
// former leader still committing) from running at the same time; the
// checkpoint saved after each commit is where the next reader continues.
func startCDCReaders(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store, exposed *metrics.CDC, alerts *alert.Manager) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, name := range cdcConnections(log, p) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keepReading(ctx, log.With("connection", name), p, st, exposed, alerts, name)
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// keepReading runs the connection's reader and starts it again, after a
// pause growing to cdcRetryMax, when it halts or its lock is held.
func keepReading(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store, exposed *metrics.CDC, alerts *alert.Manager, name string) {
	pause := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		err := readOnce(ctx, log, p, st, exposed, alerts, name)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, cdc.ErrReaderRunning):
			log.Warn("cdc reader not started: another process reads this connection; trying again", "err", err, "pause", pause)
		case err != nil:
			log.Error("cdc reader halted; starting it again", "err", err, "pause", pause)
		}
		if time.Since(start) > cdcRetryMax {
			pause = time.Second // it ran a while: the failure is new
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, cdcRetryMax)
	}
}

// readOnce is one reader's life: lock, open, run until ctx ends or it
// halts; /metrics shows its figures while it runs.
func readOnce(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store, exposed *metrics.CDC, alerts *alert.Manager, name string) error {
	unlock, lost, err := cdc.Hold(ctx, st, p.Settings.StateDB, name)
	if err != nil {
		return err
	}
	defer unlock()
	ctx, cancel := stopWhenLost(ctx, lost)
	defer cancel()
	o, err := cdc.Open(ctx, p, name, st, log)
	if err != nil {
		return err
	}
	defer o.Close()
	exposed.Set(name, o.Stats)
	defer exposed.Set(name, nil)
	stop := watchLag(ctx, log, alerts, name, o.Stats, p.Settings.CDC.LagAlert, p.Settings.CDC.FlushInterval)
	defer stop()
	stopRetention := watchRetention(ctx, log, alerts, name, o, p.Settings.CDC.RetentionAlertFiles, p.Settings.CDC.FlushInterval)
	defer stopRetention()
	o.Config.OnDiverged = func(ctx context.Context, d cdc.Divergence) {
		if err := alerts.CDCDiverged(ctx, name, d.Server, d.From.String(), d.To.String(), d.OrphanList(100), len(d.Orphans), d.Retracted); err != nil {
			log.Warn("alert on the cdc rewind", "err", err)
		}
	}
	o.Config.OnPurged = func(ctx context.Context, pg cdc.Purge) {
		if err := alerts.CDCPurged(ctx, name, pg.Server, pg.Oldest, pg.Start.String(), pg.Streams, pg.Positions, pg.Resync); err != nil {
			log.Warn("alert on the purged binlog", "err", err)
		}
	}
	return cdc.Run(ctx, o.Config)
}

// watchLag tells the alerts, after each commit of the reader, how far its
// change log was behind MySQL (cdc_lag/<connection> past threshold).
func watchLag(ctx context.Context, log *slog.Logger, alerts *alert.Manager, name string, s *cdc.Stats, threshold, every time.Duration) (stop func()) {
	return s.Watch(ctx, every, func(ctx context.Context, prev, now cdc.Totals) {
		if now.CommittedAt.IsZero() || now.CommittedAt.Equal(prev.CommittedAt) {
			return
		}
		if err := alerts.CDCLag(ctx, name, now.LastLag, threshold); err != nil && ctx.Err() == nil {
			log.Warn("alert on the cdc lag", "err", err)
		}
	})
}

// watchRetention tells the alerts, every period, how close the reader's
// saved checkpoint is to the oldest binlog its server holds
// (cdc_binlog_retention/<connection> under cdc.retention_alert_files).
func watchRetention(ctx context.Context, log *slog.Logger, alerts *alert.Manager, name string, o *cdc.Opened, threshold int, every time.Duration) (stop func()) {
	return o.Stats.Watch(ctx, every, func(ctx context.Context, _, _ cdc.Totals) {
		pos, ok, err := o.Checkpoint(ctx)
		if err != nil || !ok {
			return
		}
		c, err := o.CheckRetention(ctx, pos, threshold)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("cdc binlog retention check", "err", err)
			}
			return
		}
		if err := alerts.CDCRetention(ctx, name, c.Server, pos.String(), c.Oldest, c.Headroom, threshold, c.Near); err != nil && ctx.Err() == nil {
			log.Warn("alert on the cdc binlog retention", "err", err)
		}
	})
}
