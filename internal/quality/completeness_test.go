package quality_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCompleteness_ExactWhileTheSourceChanges syncs diario slowly while
// another session deletes rows ahead of the reads and inserts rows past the
// end of the table. Counts taken before and after the reads would not bound
// the rows written; each range counted in its read's snapshot does, exactly.
func TestCompleteness_ExactWhileTheSourceChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 6000)
	e.Settings(t, "max_rows_per_second: 6000", "chunk_rows: 500")
	db := e.db.Root(t)
	table := "`" + e.Database + "`." + diario
	var cols string
	err := db.QueryRow(`SELECT GROUP_CONCAT(CONCAT('`+"`"+`', column_name, '`+"`"+`') ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name <> 'idpk'`, e.Database, diario).Scan(&cols)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	changes := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			// Delete ahead of the reads (high keys), insert past the end.
			_, err1 := db.Exec(fmt.Sprintf("DELETE FROM %s WHERE idpk BETWEEN %d AND %d", table, 5990-10*i, 5999-10*i))
			_, err2 := db.Exec(fmt.Sprintf("INSERT INTO %s (idpk, %s) SELECT idpk + 100000, %s FROM %s WHERE idpk BETWEEN %d AND %d",
				table, cols, cols, table, 1+7*i, 7+7*i))
			if err1 != nil || err2 != nil {
				t.Errorf("change the source: %v, %v", err1, err2)
				return
			}
			changes++
			time.Sleep(20 * time.Millisecond)
		}
	}()
	res, err := e.sync(t)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if changes < 5 {
		t.Fatalf("only %d changes landed during the sync: the test did not exercise a changing source", changes)
	}
	written := e.manifest(t, streamResult(res, diario).Manifest).Rows
	r := result(t, e.report(t, res.JobID, diario), "completeness")
	if want := fmt.Sprintf("%d written, %d in source", written, written); !r.Passed || r.Measured != want {
		t.Errorf("completeness = %+v, want passed measuring %q", r, want)
	}
	var now int64
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&now); err != nil || now == 6000 {
		t.Errorf("table holds %d rows after the changes (%v); want a changed count", now, err)
	}
}

// quality.count_source false spares the source the per-range COUNT(*):
// completeness is reported as skipped, with the reason, and the other rules
// still run.
func TestCompleteness_SkippedWithoutSourceCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2000)
	path := filepath.Join(e.Dir, "acode.yaml")
	if err := os.WriteFile(path, []byte("state_db: .acode/state.db\nquality:\n  count_source: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := e.sync(t)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	rep := e.report(t, res.JobID, diario)
	if r := result(t, rep, "completeness"); !r.Skipped || !strings.Contains(r.Detail, "count_source") {
		t.Errorf("completeness = %+v, want skipped naming count_source", r)
	}
	if r := result(t, rep, "null_tolerance.CNPJ"); !r.Passed {
		t.Errorf("the other rules did not run: %+v", r)
	}
}
