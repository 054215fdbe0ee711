package cdc_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestAcodeCDC_KillNineInsideAChunkedTransactionLandsItOnceAfterRestart
// kills a real `acode cdc` with SIGKILL while a transaction bigger than
// spill_mb is being written to its change-log file in chunks (its pages
// are in the spool, its end not read yet): nothing of it is committed, the
// next process removes the files it left in the spool and lands the whole
// transaction once.
func TestAcodeCDC_KillNineInsideAChunkedTransactionLandsItOnceAfterRestart(t *testing.T) {
	t.Parallel()
	const rows = 300_000
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 1s", "spill_mb: 1")
	p := startCDC(t, bin, e)
	p.waitLog(t, "cdc reader starting", time.Minute)
	st := e.state(t)
	before := e.primaryPosition(t)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, before) })
	q := "`" + e.database + "`.`" + demo.TableComplemento + "`"
	e.primary.Exec(t, fmt.Sprintf("INSERT INTO %s (idpk, idpk_analitico, Chave_NFe, Situacao, Protocolo) "+
		"SELECT seq, seq, LPAD(seq, 44, '0'), 'autorizada', seq FROM `%s`.seq_1_to_%d", q, e.database, rows))
	want := e.primaryPosition(t)
	// Pages spooled for the change log's row group: chunks of the
	// transaction are in the open file.
	spool := filepath.Join(e.project.Dir, "spool", cdcConnection, "cdc") // the reader's own spool dir
	poll(t, 5*time.Minute, "chunks of the transaction in the spool", func() bool {
		pages, _ := filepath.Glob(filepath.Join(spool, "pages-*"))
		return len(pages) > 0
	})
	p.kill(t)
	if e.caughtUp(t, st, want) {
		t.Fatal("the transaction was committed before the kill: the kill did not land inside it")
	}
	duck := testenv.DuckDB(t)
	changes := "SELECT count(*) AS n, count(DISTINCT idpk) AS k, count(DISTINCT _acode_txn_seq) AS s, count(DISTINCT _acode_gtid) AS g FROM read_parquet(" +
		testenv.SQLString(e.changeLogGlob(demo.TableComplemento)) + ", hive_partitioning=true) WHERE _acode_op = 'c'"
	if res := duck.Query(t, changes); fmt.Sprint(res[0]["n"]) != "0" {
		t.Fatalf("%v changes of the transaction committed before its end", res[0]["n"])
	}
	if left, _ := os.ReadDir(spool); len(left) == 0 {
		t.Fatal("the killed reader left nothing in its spool dir")
	}
	p = startCDC(t, bin, e)
	poll(t, 5*time.Minute, "the change log to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("acode cdc after SIGTERM: %v", err)
	}
	res := duck.Query(t, changes)
	for col, v := range map[string]int{"n": rows, "k": rows, "s": rows, "g": 1} {
		if fmt.Sprint(res[0][col]) != fmt.Sprint(v) {
			t.Errorf("change log after the restart: %s = %v, want %d (%v)", col, res[0][col], v, res[0])
		}
	}
	// What the killed process left in the spool was removed by the next.
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool dir after a clean stop holds %d files (%s, ...)", len(left), left[0].Name())
	}
}
