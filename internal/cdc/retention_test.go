package cdc_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/state"
)

func checkpointOf(t *testing.T, st *state.Store, table string) cdc.Position {
	t.Helper()
	c, ok, err := st.GetCursor(context.Background(), cdcConnection, table+"_cdc")
	if err != nil || !ok {
		t.Fatalf("checkpoint of %s: %v, found %v", table, err, ok)
	}
	p, err := cdc.ParsePosition(c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckRetention_NearWhenTheCheckpointIsInTheOldestBinlogClearAfterCatchingUp(t *testing.T) {
	t.Parallel()
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
	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	o, err := cdc.Open(ctx, p, cdcConnection, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	check := func(what string, cp cdc.Position, wantNear bool, wantHeadroom int) {
		t.Helper()
		c, err := o.CheckRetention(ctx, cp, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c.Near != wantNear || (wantHeadroom != 99 && c.Headroom != wantHeadroom) || c.Server != "source_mysql_acode_backup" || c.Oldest == "" {
			t.Errorf("%s: %+v; want near %v, headroom %d", what, c, wantNear, wantHeadroom)
		}
	}
	purgeReplica(t, e) // only the active file is left: it starts at the checkpoint
	cp := checkpointOf(t, st, demo.TableDiario)
	check("checkpoint at the start of the only (active) binlog", cp, false, 99)

	// The reader stopped; the server writes on and rotates: the checkpoint
	// is inside the oldest file, which the next purge removes.
	if err := w.run(ctx, 10, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	e.replica.Exec(t, "FLUSH BINARY LOGS")
	if err := w.run(ctx, 5, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	check("checkpoint inside the oldest, rotated binlog", cp, true, 0)

	// The reader catches up: its checkpoint is in the active file again.
	_, stop = runInProcess(t, e)
	want = e.primaryPosition(t)
	poll(t, time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	check("checkpoint after catching up", checkpointOf(t, st, demo.TableDiario), false, 99)

	// Purged past the old checkpoint: no headroom at all.
	purgeReplica(t, e)
	check("old checkpoint after the purge", cp, true, -1)
}
