package cdc_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// compactProcess runs `acode cdc compact` for today and returns its wall
// time and peak RSS in MiB.
func compactProcess(t *testing.T, bin string, e *cdcEnv) (time.Duration, int64) {
	t.Helper()
	cmd := exec.Command(bin, "--config", e.project.Dir, "cdc", "compact", cdcConnection, "--day", time.Now().UTC().Format(time.DateOnly))
	cmd.Env = e.project.Environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child's rusage would carry this (race-instrumented) test
	// process's high-water mark: os/exec's vfork-style start makes Linux
	// count the memory the child ran on before its exec. VmHWM is the
	// compaction's own; it only grows, so the last sample is the peak.
	stop, peak := make(chan struct{}), make(chan int64, 1)
	go func() {
		var most int64
		for {
			if kib, ok := vmHWMKiB(cmd.Process.Pid); ok {
				most = max(most, kib)
			}
			select {
			case <-stop:
				peak <- most
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	rss := <-peak
	if err != nil {
		t.Fatalf("acode cdc compact: %v\n%s", err, out.String())
	}
	t.Logf("acode cdc compact:\n%s", out.String())
	return time.Since(started), rss / 1024
}

// vmHWMKiB reads a live process's peak resident set; false once it exited.
func vmHWMKiB(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kib, err == nil
		}
	}
	return 0, false
}

// TestAcodeCDCCompact_BigTableInSeveralPassesInBoundedMemory compacts a
// change log of 300k inserts, 100k updates and 30k deletes with 50k keys
// per pass (six passes), then again in one pass, through the real binary:
// both snapshots equal the source; the wall time and peak RSS are logged.
func TestAcodeCDCCompact_BigTableInSeveralPassesInBoundedMemory(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 2s", "compact_keys_per_pass: 50000")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	_, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, e.primaryPosition(t)) })
	const rows, batch = 300_000, 10_000
	q := "`" + e.database + "`.`" + demo.TableDiario + "`"
	for lo := 1; lo <= rows; lo += batch {
		e.primary.Exec(t, fmt.Sprintf("INSERT INTO %s (idpk, ACODE_Val_Total, CNPJ, Data, EAN, NF_Numero, Qtd_Trib) "+
			"SELECT seq, seq / 100, LPAD(seq, 14, '0'), '2026-11-01' + INTERVAL (seq %% 28) DAY, LPAD(seq, 13, '7'), seq, 1.5 "+
			"FROM `%s`.seq_%d_to_%d", q, e.database, lo, lo+batch-1))
	}
	e.primary.Exec(t, "UPDATE "+q+" SET ACODE_Val_Total = ACODE_Val_Total + 1 WHERE idpk % 3 = 0")
	e.primary.Exec(t, "DELETE FROM "+q+" WHERE idpk % 10 = 1")
	want := e.primaryPosition(t)
	poll(t, 5*time.Minute, "the change log to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var n int64
	var sum string
	if err := e.primary.Root(t).QueryRow("SELECT count(*), CAST(sum(ACODE_Val_Total) AS CHAR) FROM "+q).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		glob := e.snapshotGlob(demo.TableDiario)
		res := duck.Query(t, "SELECT count(*) AS n, count(DISTINCT idpk) AS k, CAST(sum(ACODE_Val_Total) AS VARCHAR) AS s FROM read_parquet("+testenv.SQLString(glob)+")")
		if fmt.Sprint(res[0]["n"]) != fmt.Sprint(n) || fmt.Sprint(res[0]["k"]) != fmt.Sprint(n) || fmt.Sprint(res[0]["s"]) != sum {
			t.Errorf("%s: snapshot has %v rows (%v keys), sum %v; the source %d rows, sum %s", what, res[0]["n"], res[0]["k"], res[0]["s"], n, sum)
		}
	}
	many, rssMany := compactProcess(t, bin, e)
	check("50k keys per pass")

	// Once more in one pass: a new change makes the day's inputs differ.
	e.project.Edit(t, "acode.yaml", "compact_keys_per_pass: 50000", "compact_keys_per_pass: 4000000")
	_, stop = runInProcess(t, e)
	e.primary.Exec(t, "UPDATE "+q+" SET ACODE_Val_Total = ACODE_Val_Total + 1 WHERE idpk = 3")
	want = e.primaryPosition(t)
	poll(t, time.Minute, "the change log to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := e.primary.Root(t).QueryRow("SELECT CAST(sum(ACODE_Val_Total) AS CHAR) FROM " + q).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	one, rssOne := compactProcess(t, bin, e)
	check("one pass")
	t.Logf("compaction of %d change rows into %d rows: 50k keys per pass %.1fs, peak RSS %d MiB; one pass %.1fs, peak RSS %d MiB",
		rows+rows/3+rows/10, n, many.Seconds(), rssMany, one.Seconds(), rssOne)
	if rssMany > 256 {
		t.Errorf("peak RSS %d MiB with 50k keys per pass; want <= 256 MiB", rssMany)
	}
}
