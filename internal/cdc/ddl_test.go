package cdc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestRun_AddColumnMidStreamGoesOnDropColumnStops(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	logs, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 40, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	q := "`" + e.database + "`.`" + demo.TableDiario + "`"
	e.primary.Exec(t, "ALTER TABLE "+q+" ADD COLUMN Lote VARCHAR(20) NULL")
	if err := w.run(ctx, 40, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	live := w.live[len(w.live)-1] // a row no delete of the writer removed
	e.primary.Exec(t, fmt.Sprintf("UPDATE %s SET Lote = CONCAT('L', idpk) WHERE idpk = %d", q, live))
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if !strings.Contains(logs.String(), "gained columns") {
		t.Errorf("no schema change in the log:\n%s", logs)
	}
	src := "read_parquet(" + testenv.SQLString(e.changeLogGlob(demo.TableDiario)) + ", hive_partitioning=true, union_by_name=true)"
	res := duck.Query(t, fmt.Sprintf("SELECT Lote, _acode_op AS op FROM %s WHERE idpk = %d ORDER BY _acode_gtid_seq DESC LIMIT 1", src, live))
	if len(res) != 1 || res[0]["Lote"] != fmt.Sprintf("L%d", live) || res[0]["op"] != "u" {
		t.Errorf("newest change of idpk %d after ADD COLUMN: %v, want Lote L%d (u)", live, res, live)
	}

	// DROP COLUMN: the reader stops with an error naming table and column.
	e.primary.Exec(t, "ALTER TABLE "+q+" DROP COLUMN Fornecedor")
	e.primary.Exec(t, fmt.Sprintf("UPDATE %s SET CNPJ = '00000000000001' WHERE idpk = %d", q, live))
	waitRunEnd(t, logs, "the reader to stop on DROP COLUMN")
	err := stop()
	var sc *cdc.SchemaChangedError
	if !errors.As(err, &sc) || !sc.Final || !strings.Contains(err.Error(), "Fornecedor") || !strings.Contains(err.Error(), demo.TableDiario) {
		t.Fatalf("after DROP COLUMN: Run = %v, want a final SchemaChangedError naming %s and Fornecedor", err, demo.TableDiario)
	}
	// Every writer transaction is there once, across the schema change.
	for _, table := range []string{demo.TableComplemento} {
		want, _ := w.expected(table, 0)
		got, dups := landed(t, duck, e.changeLogGlob(table))
		if d := diff(want, got); d != "" || dups != 0 {
			t.Errorf("%s: %s duplicates %d", table, d, dups)
		}
	}
	got, _ := landedUnion(t, duck, e.changeLogGlob(demo.TableDiario))
	wantD, _ := w.expected(demo.TableDiario, 0)
	if d := diff(wantD, withoutLast(got, 1)); d != "" {
		t.Errorf("%s across ADD COLUMN: %s", demo.TableDiario, d)
	}
}

// landedUnion is landed for a change log whose files have different columns.
func landedUnion(t *testing.T, duck *testenv.Duck, glob string) ([]string, int64) {
	t.Helper()
	rows := duck.Query(t, "SELECT _acode_gtid AS g, count(*) AS n FROM read_parquet("+testenv.SQLString(glob)+
		", hive_partitioning=true, union_by_name=true) WHERE _acode_op <> 'r' GROUP BY 1 ORDER BY max(_acode_gtid_seq)")
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%v %v", r["g"], r["n"]))
	}
	return out, 0
}

// withoutLast drops the last n lines (the test's own UPDATE after the writer).
func withoutLast(lines []string, n int) []string {
	if len(lines) < n {
		return nil
	}
	return lines[:len(lines)-n]
}
