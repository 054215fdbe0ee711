package cdc_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// newCDCPrimaryPairEnv is newCDCPairEnv reading the primary (read_from
// primary), with the replica to fall back on.
func newCDCPrimaryPairEnv(t *testing.T, cdcSettings ...string) *cdcEnv {
	t.Helper()
	e := startCDCServers(t)
	p := e.project
	p.Edit(t, "sources/source_mysql_acode/configuration.yaml", `method: "STANDARD"`, `method: "CDC"`)
	p.Edit(t, "connections/"+cdcConnection+"/configuration.yaml", "sync_mode: full_refresh", "sync_mode: incremental")
	writeSettings(t, p, "failover:\n  pairs:\n    - primary: "+cdcConnection+"\n      backup: connection_mysql_s3_acode_backup\ncdc:\n  read_from: primary\n", cdcSettings)
	return e
}

// TestRun_ReadingThePrimaryThroughKillNineWithOrphansRewindsAndRetracts:
// the reader reads the primary; the replica's IO thread is stopped, the
// writer goes on, the reader lands those transactions, then the primary
// is killed and the replica promoted. The promoted server lacks them: the
// reader rewinds to the common point, writes retraction rows for exactly
// those orphans, logs them by GTID, and goes on with the promoted server's
// new transactions (the same sequence numbers, another server id).
func TestRun_ReadingThePrimaryThroughKillNineWithOrphansRewindsAndRetracts(t *testing.T) {
	t.Parallel()
	e := newCDCPrimaryPairEnv(t, "flush_interval: 1s", "switch_after: 2", "retry_max: 2s", "heartbeat: 1s", "read_timeout: 3s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	logs, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	if !strings.Contains(logs.String(), "source=source_mysql_acode ") {
		t.Fatalf("the reader with read_from primary does not read the primary:\n%s", logs)
	}
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 60, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	e.replica.Exec(t, "STOP SLAVE IO_THREAD")
	common, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.run(ctx, 7, 10*time.Millisecond); err != nil { // the orphans: on the primary only
		t.Fatal(err)
	}
	ahead := e.primaryPosition(t)
	poll(t, time.Minute, "the orphans to be landed from the primary", func() bool { return e.caughtUp(t, st, ahead) })
	e.primary.Kill(t)
	// Not promoted yet, its SQL thread still runs: the replica may yet
	// apply what it lacks, so the reader waits and retracts nothing.
	poll(t, time.Minute, "the reader to wait for the replica that still replicates", func() bool {
		return strings.Contains(logs.String(), "the server still replicates")
	})
	if x, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(e.changeLogGlob(demo.TableDiario))), "*", "*_retracted.parquet")); len(x) != 0 {
		t.Fatalf("retractions written before the promotion: %v", x)
	}
	e.replica.Exec(t, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	promoted := time.Now()
	w.db = e.replica.Root(t) // the application fails over too
	if err := w.run(ctx, 60, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	t.Logf("caught up %.1fs after the promotion, at %s (common point %s, primary was at %s)", time.Since(promoted).Seconds(), want, common, ahead)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	orphans := orphanGTIDs(w, common)
	if len(orphans) != 7 {
		t.Fatalf("%d orphan transactions in the writer's record, want 7 (common point %s)", len(orphans), common)
	}
	checkExactlyOnce(t, e, w, duck) // orphans included: they were landed once, before the kill
	for _, table := range []string{demo.TableDiario, demo.TableComplemento} {
		want := orphanLines(w, table, orphans)
		got := retracted(t, duck, e.changeLogGlob(table))
		if d := diff(want, got); d != "" {
			t.Errorf("%s: retraction rows differ from the orphans %v: %s", table, orphans, d)
		}
	}
	checkNewestRowsOn(t, e, e.replica, duck)
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "cdc reader rewound") {
			line = l
		}
	}
	for _, g := range orphans {
		if !strings.Contains(line, g) {
			t.Errorf("the rewind's log line does not name orphan %s: %q", g, line)
		}
	}
	checkPartitionsClean(t, e)
}

// orphanGTIDs are the writer's transactions after the common point in its
// domain, sorted.
func orphanGTIDs(w *writer, common cdc.Position) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for g := range w.changes {
		gt, err := cdc.ParseGTID(g)
		if err == nil && common[gt.Domain].Server == gt.Server && gt.Seq > common[gt.Domain].Seq {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

// orphanLines are the "gtid count" lines of the orphans that changed table.
func orphanLines(w *writer, table string, orphans []string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, g := range orphans {
		if n := w.changes[g][table]; n > 0 {
			out = append(out, fmt.Sprintf("%s %d", g, n))
		}
	}
	sort.Strings(out)
	return out
}

// retracted returns the change log's retraction rows as "gtid count" lines.
func retracted(t *testing.T, duck *testenv.Duck, glob string) []string {
	t.Helper()
	src := "read_parquet(" + testenv.SQLString(glob) + ", hive_partitioning=true)"
	var out []string
	for _, r := range duck.Query(t, "SELECT _acode_gtid AS g, count(*) AS n FROM "+src+" WHERE _acode_op = 'x' GROUP BY 1") {
		out = append(out, fmt.Sprintf("%v %v", r["g"], r["n"]))
	}
	sort.Strings(out)
	return out
}

// TestAcodeCDC_KillNineHalfWayThroughARewindIsFinishedByTheNextProcess:
// the divergence of the test above, read by `acode cdc` on a PostgreSQL
// state slowed by toxiproxy; the process is killed once the rewind is
// recorded and some streams' checkpoints are back at the common point but
// not all (a stream left at the orphan position would skip the promoted
// server's transactions of the same sequence numbers). The next process,
// started with the primary dead, starts on the promoted server, finishes
// the rewind and goes on: every GTID once, every orphan retracted once.
func TestAcodeCDC_KillNineHalfWayThroughARewindIsFinishedByTheNextProcess(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCPrimaryPairEnv(t, "flush_interval: 1s", "switch_after: 2", "retry_max: 2s", "heartbeat: 1s", "read_timeout: 3s")
	proxy, st := slowableState(t, e)
	duck := testenv.DuckDB(t)
	ctx := context.Background()
	p := startCDC(t, bin, e)
	p.waitLog(t, "cdc reader starting", time.Minute)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 40, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	e.replica.Exec(t, "STOP SLAVE IO_THREAD")
	common, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.run(ctx, 5, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ahead := e.primaryPosition(t)
	poll(t, time.Minute, "the orphans to be landed from the primary", func() bool { return e.caughtUp(t, st, ahead) })
	proxy.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 300})
	e.primary.Kill(t)
	e.replica.Exec(t, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	poll(t, 2*time.Minute, "a rewind half-way: recorded, some checkpoints back at "+common.String()+", not all", func() bool {
		if c, ok, err := st.GetCursor(ctx, cdcConnection, "_acode_cdc#rewind"); err != nil || !ok || c.Value == "" {
			return false
		}
		back := 0
		for _, table := range demo.Tables() {
			c, ok, err := st.GetCursor(ctx, cdcConnection, table+"_cdc")
			if err != nil {
				t.Fatal(err)
			}
			if ok && c.Value == common.String() {
				back++
			}
		}
		if back == 0 || back == len(demo.Tables()) {
			return false
		}
		p.kill(t)
		return true
	})
	proxy.RemoveToxic(t, "slow")
	p = startCDC(t, bin, e)
	p.waitLog(t, "cdc rewind of the previous process is finished", 2*time.Minute)
	w.db = e.replica.Root(t)
	if err := w.run(ctx, 40, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("acode cdc after SIGTERM: %v", err)
	}
	orphans := orphanGTIDs(w, common)
	if len(orphans) != 5 {
		t.Fatalf("%d orphan transactions in the writer's record, want 5 (common point %s)", len(orphans), common)
	}
	checkExactlyOnce(t, e, w, duck)
	for _, table := range []string{demo.TableDiario, demo.TableComplemento} {
		if d := diff(orphanLines(w, table, orphans), retracted(t, duck, e.changeLogGlob(table))); d != "" {
			t.Errorf("%s: retraction rows differ from the orphans %v: %s", table, orphans, d)
		}
	}
	checkNewestRowsOn(t, e, e.replica, duck)
	checkPartitionsClean(t, e)
}
