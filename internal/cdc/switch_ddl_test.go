package cdc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestRun_AddColumnOnThePromotedServerAfterASwitchIsFollowed: the reader
// reads the primary; the primary is killed with kill -9 and the replica
// promoted; the reader continues there by GTID. Then, on the promoted
// server, ALTER TABLE ... ADD COLUMN and more writes: the reader discovers
// the new column on the server it now reads (not the dead primary), goes
// on without a restart, lands every transaction once and the new column's
// values.
func TestRun_AddColumnOnThePromotedServerAfterASwitchIsFollowed(t *testing.T) {
	t.Parallel()
	e := newCDCPrimaryPairEnv(t, "flush_interval: 1s", "switch_after: 2", "retry_max: 2s", "heartbeat: 1s", "read_timeout: 3s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	logs, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	if !strings.Contains(logs.String(), "source=source_mysql_acode ") {
		t.Fatalf("the reader with read_from primary does not read the primary:\n%s", logs)
	}
	// Writer steps on the primary, on the promoted server before and after ADD COLUMN.
	const before, promoted, after = 40, 20, 30
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, before, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	reached := e.primaryPosition(t)
	poll(t, time.Minute, "the change logs to reach "+reached.String(), func() bool { return e.caughtUp(t, st, reached) })

	e.primary.Kill(t)
	e.replica.Exec(t, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	w.db = e.replica.Root(t) // the application fails over too
	if err := w.run(ctx, promoted, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	q := "`" + e.database + "`.`" + demo.TableDiario + "`"
	e.replica.Exec(t, "ALTER TABLE "+q+" ADD COLUMN Lote VARCHAR(20) NOT NULL DEFAULT 'L7'")
	if err := w.run(ctx, after, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, 2*time.Minute, "the change logs to reach "+want.String()+" on the promoted server", func() bool {
		if strings.Contains(logs.String(), "cdc reader halted") {
			t.Fatalf("the reader halted after the switch:\n%s", logs)
		}
		return e.caughtUp(t, st, want)
	})
	if err := stop(); err != nil {
		t.Fatalf("the reader ended with %v after the switch and ADD COLUMN:\n%s", err, logs)
	}
	for _, line := range []string{"cdc reader continues on another server", "gained columns"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("no %q in the log:\n%s", line, logs)
		}
	}
	checkExactlyOnce(t, e, w, duck)
	checkNewestRowsOn(t, e, e.replica, duck)

	// Each of the writer's inserts after the ALTER carries the new column's
	// value; none before it has one.
	src := "read_parquet(" + testenv.SQLString(e.changeLogGlob(demo.TableDiario)) + ", hive_partitioning=true, union_by_name=true)"
	res := duck.Query(t, "SELECT count(*) FILTER (WHERE Lote = 'L7') AS lote, count(*) FILTER (WHERE Lote IS NULL) AS without FROM "+src+" WHERE _acode_op = 'c'")
	if got, want := fmt.Sprint(res[0]["lote"], " ", res[0]["without"]), fmt.Sprint(2*after, " ", 2*(before+promoted)); got != want {
		t.Errorf("inserts with Lote L7, without Lote in the change log: %s, want %s (two a writer step, after and before ADD COLUMN)", got, want)
	}
}

// TestRun_PurgeFoundAfterASwitchIsBackfilledAgainFromTheServerRead: the
// reader reads the primary, which is killed with kill -9; the promoted
// replica refuses the binlog to the reader's user until its binlog after
// the reader's checkpoint is purged. The reader, switched there, finds the
// purge and (Re-sync data) backfills the streams again by ranges from the
// promoted server, then streams on from it, without a restart.
func TestRun_PurgeFoundAfterASwitchIsBackfilledAgainFromTheServerRead(t *testing.T) {
	t.Parallel()
	e := newCDCPrimaryPairEnv(t, "flush_interval: 1s", "switch_after: 2", "retry_max: 2s", "heartbeat: 1s", "read_timeout: 3s")
	e.project.Edit(t, "sources/source_mysql_acode/configuration.yaml", `method: "CDC"`,
		"method: \"CDC\"\n    invalid_cdc_cursor_position_behavior: \"Re-sync data\"")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	logs, stop := runInProcess(t, e)
	if err := w.run(ctx, 30, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	reached := e.primaryPosition(t)
	poll(t, time.Minute, "the change logs to reach "+reached.String(), func() bool { return e.caughtUp(t, st, reached) })

	e.replica.Exec(t, "REVOKE REPLICATION SLAVE ON *.* FROM 'userfarmarcasac02'@'%'") // the reader cannot read its binlog yet
	e.primary.Kill(t)
	e.replica.Exec(t, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	w.db = e.replica.Root(t)
	if err := w.run(ctx, 30, 0); err != nil { // its binlog is purged below
		t.Fatal(err)
	}
	poll(t, time.Minute, "the reader to try the promoted server", func() bool {
		return strings.Contains(logs.String(), "cdc reader continues on another server")
	})
	purgeReplica(t, e)
	mid, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	e.replica.Exec(t, "GRANT REPLICATION SLAVE ON *.* TO 'userfarmarcasac02'@'%'")
	poll(t, time.Minute, "the streams to be backfilled again", func() bool {
		if strings.Contains(logs.String(), "cdc reader halted") {
			t.Fatalf("the reader halted on the purge after the switch:\n%s", logs)
		}
		return strings.Contains(logs.String(), "cdc streams backfilled again")
	})
	if err := w.run(ctx, 30, 10*time.Millisecond); err != nil { // streamed from the promoted server
		t.Fatal(err)
	}
	want, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, 2*time.Minute, "the change logs to reach "+want.String()+" on the promoted server", func() bool {
		if strings.Contains(logs.String(), "cdc reader halted") {
			t.Fatalf("the reader halted after the switch:\n%s", logs)
		}
		return e.caughtUp(t, st, want)
	})
	if err := stop(); err != nil {
		t.Fatalf("the reader ended with %v after the switch and the purge:\n%s", err, logs)
	}
	if n := strings.Count(logs.String(), "backfilling it again by ranges"); n != len(demo.Tables()) {
		t.Errorf("%d streams backfilled again, want %d:\n%s", n, len(demo.Tables()), logs)
	}
	// Every transaction after the new backfill's earliest snapshot is in
	// the change log once.
	for _, table := range []string{demo.TableDiario, demo.TableComplemento} {
		after := backfillStartAfter(t, e, duck, table, mid[0].Seq)
		wantLines, _ := w.expected(table, after)
		got, dups := landed(t, duck, e.changeLogGlob(table))
		var gotAfter []string
		for _, l := range got {
			var d, s, seq uint64
			fmt.Sscanf(l, "%d-%d-%d", &d, &s, &seq)
			if seq > after {
				gotAfter = append(gotAfter, l)
			}
		}
		if d := diff(wantLines, gotAfter); d != "" || dups != 0 || len(wantLines) == 0 {
			t.Errorf("%s: changes after the new backfill (seq > %d, %d transactions): %s duplicates %d", table, after, len(wantLines), d, dups)
		}
	}
}
