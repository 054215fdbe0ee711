package cdc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestCompact_LeavesOutTheChangesOfARetractedTransaction retracts one
// writer transaction the way a rewind does (its rows again with _acode_op
// x in a ..._retracted.parquet file committed into its partition) and
// compacts: the snapshot is the newest row per key of the other changes.
func TestCompact_LeavesOutTheChangesOfARetractedTransaction(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 20, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	_, stop := runInProcess(t, e)
	if err := w.run(ctx, 30, 0); err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	store, err := file.New(e.project.LocalRoot())
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	clDir := "origin=airbyte/database=bronze_acode/" + demo.TableDiario + "_cdc/cog_dt_ingestion=" + today.Format(time.DateOnly)
	m, err := snapshot.ReadManifest(ctx, store, clDir+"/_acode_manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	// The retracted transaction: the last one of a change file, which
	// inserted, updated and maybe deleted rows.
	var src snapshot.File
	for _, f := range m.Files {
		if !strings.Contains(path.Base(f.Key), "_backfill_") {
			src = f
		}
	}
	l, err := parquet.Fetch(ctx, store, src.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	table := m.Table()
	dec, err := parquet.NewDecoder(l.File, table)
	if err != nil {
		t.Fatal(err)
	}
	gi, oi := indexOfColumn(table.Columns, cdc.ColGTID), indexOfColumn(table.Columns, cdc.ColOp)
	var rows [][][]byte
	err = parquet.EachRow(l.File, func(r pq.Row) error {
		text, err := dec.Text(r)
		if err != nil {
			return err
		}
		c := make([][]byte, len(text))
		for i, v := range text {
			if v != nil {
				c[i] = append([]byte{}, v...)
			}
		}
		rows = append(rows, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gtid := string(rows[len(rows)-1][gi])
	ps, err := parquet.NewSchema(table, parquet.ModeExact)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	pw, err := parquet.NewWriter(&buf, ps, time.Now(), parquet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if string(r[gi]) == gtid {
			r[oi] = []byte("x")
			if err := pw.Write(r); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	name := "file_" + demo.TableDiario + "_cdc_" + today.Format("20060102") + "_" + gtid + "_" + gtid + "_retracted.parquet"
	stage := "origin=airbyte/database=bronze_acode/_acode_staging/test/" + name
	if err := store.Put(ctx, stage, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		t.Fatal(err)
	}
	next := *m
	lay := layout.Stream{Partition: clDir, FilePrefix: "file_" + demo.TableDiario + "_cdc", Day: today.Format("20060102")}
	if _, err := snapshot.Publish(ctx, store, lay, next, []snapshot.StagedPart{{StagingKey: stage, Name: name, Rows: int64(n),
		Bytes: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}}, true); err != nil {
		t.Fatal(err)
	}

	if _, err := compactor(t, e, 0).Compact(ctx, cdcConnection, today); err != nil {
		t.Fatal(err)
	}
	glob := "read_parquet(" + testenv.SQLString(e.changeLogGlob(demo.TableDiario)) + ", hive_partitioning=true)"
	expect := duckDiario(duck.Query(t, `SELECT idpk, CAST(ACODE_Val_Total AS VARCHAR) AS v, CNPJ, CAST(Data AS VARCHAR) AS d FROM (
		SELECT *, row_number() OVER (PARTITION BY idpk ORDER BY _acode_gtid_seq DESC, _acode_txn_seq DESC) AS rn FROM `+glob+`
		WHERE _acode_gtid <> `+testenv.SQLString(gtid)+`) WHERE rn = 1 AND _acode_op <> 'd'`))
	got := snapshotRows(t, e, duck, today)
	if d := diff(expect, got); d != "" || len(expect) == 0 {
		t.Errorf("snapshot after retracting %s (%d rows): differs from the newest row per key without it (%d rows): %s", gtid, n, len(expect), d)
	}
	source := diarioRows(t, e)
	sort.Strings(source)
	if diff(source, got) == "" {
		t.Errorf("the snapshot equals the source although %s (%d rows) was retracted", gtid, n)
	}
	// The merge-on-read example leaves it out too.
	duckSQL, err := os.ReadFile(filepath.Join("..", "..", "examples", "cdc", "merge_on_read_duckdb.sql"))
	if err != nil {
		t.Fatal(err)
	}
	q := strings.NewReplacer("{snapshot}", e.snapshotGlob(demo.TableDiario), "{changes}", e.changeLogGlob(demo.TableDiario)).Replace(string(duckSQL))
	view := duckDiario(duck.Query(t, "SELECT idpk, CAST(ACODE_Val_Total AS VARCHAR) AS v, CNPJ, CAST(Data AS VARCHAR) AS d FROM ("+
		strings.TrimSuffix(strings.TrimSpace(q), ";")+")"))
	if d := diff(expect, view); d != "" {
		t.Errorf("merge-on-read after retracting %s: %s", gtid, d)
	}
	t.Logf("retracted %s: %d rows", gtid, n)
}

func indexOfColumn(cols []schema.Column, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}
