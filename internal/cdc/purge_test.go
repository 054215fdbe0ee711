package cdc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
)

func TestRun_BinlogPurgedPastTheCheckpointStopsWithTheServerAndPosition(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	st := e.state(t)
	_, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, e.primary, e.database)
	if err := w.run(context.Background(), 20, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	// MariaDB keeps a binlog file until its binlog checkpoint passed it:
	// flush and purge until the oldest file left is the newest.
	poll(t, time.Minute, "the replica's binlog to be purged", func() bool {
		var file, oldest string
		var pos int64
		e.replica.Exec(t, "FLUSH BINARY LOGS")
		if err := e.replica.Root(t).QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, new(string), new(string)); err != nil {
			t.Fatal(err)
		}
		e.replica.Exec(t, "PURGE BINARY LOGS TO '"+file+"'")
		if err := e.replica.Root(t).QueryRow("SHOW BINARY LOGS").Scan(&oldest, new(int64)); err != nil {
			t.Fatal(err)
		}
		return oldest == file
	})

	logs, stop := runInProcess(t, e)
	waitRunEnd(t, logs, "the reader to stop on a purged position")
	err := stop()
	var pe *cdc.PositionError
	if !errors.As(err, &pe) || pe.Endpoint != "source_mysql_acode_backup" || len(pe.Position) == 0 ||
		!strings.Contains(err.Error(), pe.Position.String()) {
		t.Fatalf("Run after PURGE BINARY LOGS = %v, want a *PositionError naming the server and the position", err)
	}
}
