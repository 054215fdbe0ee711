package cdc_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestRun_BackfillsByRangesWhileWritesGoOnThenStreamsFromTheEarliestSnapshot(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 300, 0); err != nil { // rows already there: 600 in diario, 6 ranges of 100
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	writes := make(chan error, 1)
	go func() { writes <- w.run(ctx, 200, 10*time.Millisecond) }() // and more while the ranges are read

	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	o, err := cdc.Open(ctx, p, cdcConnection, st, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	done := make(chan error, 1)
	go func() { done <- cdc.Run(ctx, o.Config) }()
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// The newest row per key, backfill rows included, is the source table.
	checkNewestRows(t, e, duck)
	// Every transaction after the earliest range snapshot is there once as
	// changes; the backfill holds the rest.
	src := "read_parquet(" + testenv.SQLString(e.changeLogGlob(demo.TableDiario)) + ", hive_partitioning=true)"
	res := duck.Run(t, "SELECT min(_acode_gtid_seq) AS lo, count(DISTINCT _acode_gtid_seq) AS snaps, count(*) AS n FROM "+src+" WHERE _acode_op = 'r'")
	var lo uint64
	fmt.Sscan(fmt.Sprint(res[0].Rows[0]["lo"]), &lo)
	if lo == 0 || fmt.Sprint(res[0].Rows[0]["n"]) == "0" {
		t.Fatalf("no backfill rows in the change log: %v", res[0].Rows)
	}
	checkExactlyOnce(t, e, w, duck)
	files, _ := filepath.Glob(e.changeLogGlob(demo.TableDiario))
	ranges := 0
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "_backfill_") {
			ranges++
		}
	}
	if ranges < 2 {
		t.Errorf("%d backfill files; chunk_rows 100 over 600+ rows should give several ranges", ranges)
	}
	t.Logf("backfill: %v rows from %d ranges at %v distinct snapshot positions, earliest seq %d", res[0].Rows[0]["n"], ranges, res[0].Rows[0]["snaps"], lo)
}
