package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/configexport"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// monthlyCareSchedule is the schedule_fires row of the monthly care: the
// first instant of the last month it ran for.
const monthlyCareSchedule = "care/monthly"

// configBackupPrefix is where serve's monthly config export goes in
// archive.bucket, or else in the
// destination of the first failover pair's primary, beside the archives.
const configBackupPrefix = "acode_historical/config_backups"

// disasterRecoveryPrefix is the seed's acode_historical/disaster_recovery/:
// each month a copy of the state store as a SQLite file, beside the config
// backup, so acode can be rebuilt elsewhere with its jobs, cursors,
// committed partitions and failover state.
const disasterRecoveryPrefix = "acode_historical/disaster_recovery"

// stateBackupName is the monthly state copy's object name.
func stateBackupName(now time.Time) string {
	return "acode-state-" + now.UTC().Format("200601") + ".db"
}

// backupStateStore copies st into a SQLite file in the scratch directory
// (never the system temp dir) and uploads it to dst; the same key each
// month, so a rerun replaces it. It returns the key.
func backupStateStore(ctx context.Context, p *config.Project, st *state.Store, dst storage.Store, now time.Time) (string, error) {
	if err := os.MkdirAll(p.Settings.Sync.SpoolDir, 0o700); err != nil {
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	tmp, err := os.CreateTemp(p.Settings.Sync.SpoolDir, "state-backup-*.db")
	if err != nil {
		return "", fmt.Errorf("scratch file: %w", err)
	}
	path := tmp.Name()
	tmp.Close()
	os.Remove(path) // CopyToFile makes a new database there
	defer os.Remove(path)
	if err := state.CopyToFile(ctx, st, path); err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	key := disasterRecoveryPrefix + "/" + stateBackupName(now)
	if err := storage.PutFile(ctx, dst, key, f, info.Size()); err != nil {
		return "", err
	}
	return key, nil
}

// careRunTimeout bounds one run of a care duty: a destination that
// accepts connections and never answers holds that duty only, and only
// until then.
const careRunTimeout = time.Hour

// startMonthlyCare runs the seed's monthly care on the leader, once per
// month (checked at start and every hour): the config backup
// (acode-connections-YYYYMM.json) and the archive of the month that ended
// (in January, also the year's: its last monthly archive).
// Both are idempotent, so the month is recorded done only after they
// succeed: a leader that dies half-way leaves the month to the next one.
// The weekly table sizes (weeklyTableSizes) run on the same cadence in a
// goroutine of their own, and neither is waited for by the other loops:
// an unreachable destination delays nothing but its own duty.
func startMonthlyCare(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	hourly := func(what string, duty func(context.Context, *slog.Logger, *config.Project, *state.Store, time.Time) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Hour)
			defer t.Stop()
			for {
				rctx, done := context.WithTimeout(ctx, careRunTimeout)
				err := duty(rctx, log, p, st, time.Now().UTC())
				done()
				if err != nil && ctx.Err() == nil {
					log.Error(what+": retried in an hour", "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	hourly("monthly care (config backup, archive)", monthlyCare)
	hourly("weekly table sizes", weeklyTableSizes)
	return func() { cancel(); wg.Wait() }
}

func monthlyCare(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store, now time.Time) error {
	slot := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	last, err := st.ScheduleFire(ctx, monthlyCareSchedule)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if !last.Before(slot) {
		return nil
	}
	conns, err := archiveConnections(p, "")
	if err != nil || len(conns) == 0 {
		return err
	}
	home := backupHome(p, conns)
	first, err := backupStore(ctx, p, home)
	if err != nil {
		return fmt.Errorf("config backup to destination %s: %w", home.Destination.ResourceName, err)
	}
	doc, err := configexport.Export(p, now)
	if err != nil {
		return err
	}
	key, err := configexport.Upload(ctx, first, configBackupPrefix, doc)
	if err != nil {
		return fmt.Errorf("config backup to destination %s: %w", home.Destination.ResourceName, err)
	}
	log.Info("monthly config backup", "location", first.Location(key), "files", len(doc.Files))
	dr, err := backupStateStore(ctx, p, st, first, now)
	if errors.Is(err, state.ErrJobRunning) {
		return fmt.Errorf("state backup waits for the running jobs to end: %w", err)
	}
	if err != nil {
		return fmt.Errorf("state backup to destination %s: %w", home.Destination.ResourceName, err)
	}
	log.Info("monthly state backup", "location", first.Location(dr))
	for _, c := range conns {
		a, err := openArchiver(ctx, p, c, "", log)
		if err != nil {
			return fmt.Errorf("archive of connection %s (destination %s): %w", c.ResourceName, c.Destination.ResourceName, err)
		}
		res, err := a.Month(ctx, slot.AddDate(0, -1, 0))
		if err != nil {
			return fmt.Errorf("archive of connection %s (destination %s): %w", c.ResourceName, c.Destination.ResourceName, err)
		}
		if slot.Month() == time.January { // the year ended with that month: keep its last one
			yr, err := a.Year(ctx, slot.AddDate(0, -1, 0))
			if err != nil {
				return fmt.Errorf("yearly archive of connection %s (destination %s): %w", c.ResourceName, c.Destination.ResourceName, err)
			}
			res = append(res, yr...)
		}
		for _, r := range res {
			log.Info("monthly archive", "connection", r.Connection, "stream", r.Stream, "month", r.Month, "did", r.Did)
		}
	}
	if _, err := st.ClaimScheduleFire(ctx, monthlyCareSchedule, last, slot); err != nil {
		return err
	}
	return nil
}

// backupHome is the connection whose destination keeps the config backups:
// the first failover pair's primary, else the first connection.
func backupHome(p *config.Project, conns []*config.Connection) *config.Connection {
	if pairs, err := p.FailoverPairs(); err == nil && len(pairs) > 0 {
		if c := p.Connections[pairs[0].Primary]; c != nil {
			return c
		}
	}
	return conns[0]
}

// backupStore is where the config backups go: archive.bucket when set
// (reached like home's destination), else home's destination.
func backupStore(ctx context.Context, p *config.Project, home *config.Connection) (storage.Store, error) {
	if b := p.Settings.Archive.Bucket; b != "" && home.Destination.Kind == config.KindS3 {
		return connect.BucketStore(ctx, b, home.Destination)
	}
	return connect.Store(ctx, home.Destination)
}
