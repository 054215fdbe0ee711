package cdc_test

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/state"
)

// retentionCondition is the state store's cdc_binlog_retention condition
// of the connection, if any.
func retentionCondition(t *testing.T, st *state.Store) (state.AlertCondition, bool) {
	t.Helper()
	conds, err := st.AlertConditions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conds {
		if c.Key == "cdc_binlog_retention/"+cdcConnection {
			return c, true
		}
	}
	return state.AlertCondition{}, false
}

func TestAcodeServe_CompactsOnceADayAndWarnsWhileTheCheckpointIsInTheOldestBinlog(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 1s")
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 10, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	_, stop := runInProcess(t, e)
	want := e.primaryPosition(t)
	poll(t, time.Minute, "the backfill", func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	purgeReplica(t, e) // the checkpoint is at the start of the only binlog file

	// serve's reader starts from a checkpoint at the start of the oldest of
	// the two binlog files left: fewer files than cdc.retention_alert_files
	// precede it, so the retention warning is raised before its first
	// commit moves the checkpoint into the active file.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e.serveS3(t)
	sp := startProcess(t, exec.Command(bin, "--config", e.project.Dir, "--log-format", "json", "serve", "--listen", addr), e,
		"ACODE_API_USER="+serveUser, "ACODE_API_PASSWORD="+servePassword)
	sp.waitLog(t, "daily cdc compaction done", time.Minute)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if at, err := st.ScheduleFire(ctx, cdc.CompactSchedule); err != nil || !at.Equal(today) {
		t.Errorf("daily compaction's fire time: %s, %v; want %s", at, err, today)
	}
	if err := w.run(ctx, 10, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	e.replica.Exec(t, "FLUSH BINARY LOGS")
	if err := w.run(ctx, 5, 0); err != nil {
		t.Fatal(err)
	}
	// Raised (it may already be cleared again: the commit that clears it
	// follows within the flush interval).
	poll(t, time.Minute, "cdc_binlog_retention raised", func() bool {
		c, ok := retentionCondition(t, st)
		return ok && c.Severity == "warning"
	})
	// The commit lands: the checkpoint is in the active file, the warning
	// clears.
	want = e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	poll(t, time.Minute, "cdc_binlog_retention cleared", func() bool {
		c, ok := retentionCondition(t, st)
		return !ok || c.ClearedAt != nil
	})
	sp.terminate(t)
}

func TestAcodeServe_BinlogPurgedPastTheCheckpointRaisesACriticalAlertWithFailSync(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 1s")
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	_, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := w.run(ctx, 20, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	purgeReplica(t, e)
	sp, _ := startServe(t, bin, e)
	poll(t, time.Minute, "cdc_binlog_purged raised", func() bool {
		conds, err := st.AlertConditions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range conds {
			if c.Key == "cdc_binlog_purged/"+cdcConnection {
				return c.Severity == "critical" && strings.Contains(c.Details, "Fail sync") && strings.Contains(c.Details, "source_mysql_acode_backup")
			}
		}
		return false
	})
	sp.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-sp.done; err != nil {
		t.Fatalf("acode serve after SIGTERM: %v", err)
	}
}
