package cdc_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
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

// purgeReplica flushes and purges the replica's binlog until the oldest
// file left is the newest: everything before it is gone.
func purgeReplica(t *testing.T, e *cdcEnv) {
	t.Helper()
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
}

func TestRun_BinlogPurgedPastTheCheckpointWithResyncBackfillsAgainAndStreamsOn(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	e.project.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", `method: "CDC"`,
		"method: \"CDC\"\n    invalid_cdc_cursor_position_behavior: \"Re-sync data\"")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 60, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	_, stop := runInProcess(t, e)
	want := e.primaryPosition(t)
	poll(t, time.Minute, "the backfill", func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// While no reader runs: inserts, updates and deletes whose binlog is
	// then purged.
	if err := w.run(ctx, 40, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	purgeReplica(t, e)

	mid := e.primaryPosition(t)[0].Seq // the new backfill's snapshots are after it
	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o, err := cdc.Open(rctx, p, cdcConnection, st, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	purges := make(chan cdc.Purge, 4)
	o.Config.OnPurged = func(_ context.Context, pg cdc.Purge) { purges <- pg }
	done := make(chan error, 1)
	go func() { done <- cdc.Run(rctx, o.Config) }()
	// More changes while it backfills and after: streamed from the new
	// snapshot positions.
	if err := w.run(ctx, 40, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want = e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after the purge with Re-sync data: %v\n%s", err, logs)
	}
	select {
	case pg := <-purges:
		if !pg.Resync || len(pg.Streams) != len(demo.Tables()) || pg.Server != "source_mysql_acode_backup" || pg.Oldest == "" {
			t.Errorf("purge reported: %+v; want the three streams re-synced from source_mysql_acode_backup", pg)
		}
	default:
		t.Fatalf("OnPurged was not called; the reader logged:\n%s", logs)
	}
	if n := strings.Count(logs.String(), "backfilling it again by ranges"); n != len(demo.Tables()) {
		t.Errorf("%d streams backfilled again, want %d:\n%s", n, len(demo.Tables()), logs)
	}

	// Every transaction after the new backfill's earliest snapshot is in
	// the change log once.
	after := backfillStartAfter(t, e, duck, demo.TableDiario, mid)
	wantLines, _ := w.expected(demo.TableDiario, after)
	got, dups := landed(t, duck, e.changeLogGlob(demo.TableDiario))
	var gotAfter []string
	for _, l := range got {
		var d, s, seq uint64
		fmt.Sscanf(l, "%d-%d-%d", &d, &s, &seq)
		if seq > after {
			gotAfter = append(gotAfter, l)
		}
	}
	if d := diff(wantLines, gotAfter); d != "" || dups != 0 || len(wantLines) == 0 {
		t.Errorf("changes after the new backfill (seq > %d, %d transactions): %s duplicates %d", after, len(wantLines), d, dups)
	}
	// Today's snapshot starts from the new backfill: the rows deleted while
	// the binlog was lost are gone, as in the source.
	if _, err := compactor(t, e, 0).Compact(ctx, cdcConnection, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	source := diarioRows(t, e)
	if d := diff(source, snapshotRows(t, e, duck, time.Now().UTC().Truncate(24*time.Hour))); d != "" {
		t.Errorf("today's snapshot after the re-sync differs from the source (%d rows): %s", len(source), d)
	}
}

// backfillStartAfter is the earliest range snapshot sequence of the
// table's backfill rows past sequence seq: a later backfill's start.
func backfillStartAfter(t *testing.T, e *cdcEnv, duck *testenv.Duck, table string, seq uint64) uint64 {
	t.Helper()
	src := "read_parquet(" + testenv.SQLString(e.changeLogGlob(table)) + ", hive_partitioning=true)"
	rows := duck.Query(t, fmt.Sprintf("SELECT min(_acode_gtid_seq) AS lo FROM %s WHERE _acode_op = 'r' AND _acode_gtid_seq >= %d", src, seq))
	var lo uint64
	fmt.Sscan(fmt.Sprint(rows[0]["lo"]), &lo)
	if lo == 0 {
		t.Fatalf("no backfill rows of %s after sequence %d", table, seq)
	}
	return lo
}
