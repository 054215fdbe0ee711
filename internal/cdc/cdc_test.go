package cdc_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// caughtUp reports whether every stream's checkpoint covers the primary's
// binlog position now.
func (e *cdcEnv) caughtUp(t *testing.T, st *state.Store, want cdc.Position) bool {
	t.Helper()
	for _, table := range demo.Tables() {
		c, ok, err := st.GetCursor(context.Background(), cdcConnection, table+"_cdc")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return false
		}
		p, err := cdc.ParsePosition(c.Value)
		if err != nil {
			t.Fatal(err)
		}
		if p.Behind(want) {
			return false
		}
	}
	return true
}

func (e *cdcEnv) primaryPosition(t *testing.T) cdc.Position {
	t.Helper()
	p, err := cdc.CurrentPosition(context.Background(), e.primary.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *cdcEnv) state(t *testing.T) *state.Store {
	t.Helper()
	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// checkExactlyOnce asserts that every transaction of the writer is in each
// table's change log exactly once with all its rows, and nothing else is.
func checkExactlyOnce(t *testing.T, e *cdcEnv, w *writer, duck *testenv.Duck) {
	t.Helper()
	for _, table := range []string{demo.TableDiario, demo.TableComplemento} {
		after := backfillStart(t, e, duck, table)
		want, total := w.expected(table, after)
		got, dups := landed(t, duck, e.changeLogGlob(table))
		if d := diff(want, got); d != "" || dups != 0 {
			t.Errorf("%s: change log differs from the writer's %d transactions after sequence %d (%d rows): %s duplicates %d",
				table, len(want), after, total, d, dups)
		}
	}
}

// backfillStart is the sequence number of the earliest range snapshot of
// the table's backfill (0 without backfill rows): transactions up to it
// are in the backfill rows, not in the changes.
func backfillStart(t *testing.T, e *cdcEnv, duck *testenv.Duck, table string) uint64 {
	t.Helper()
	src := "read_parquet(" + testenv.SQLString(e.changeLogGlob(table)) + ", hive_partitioning=true, union_by_name=true)"
	res := duck.Query(t, "SELECT coalesce(min(_acode_gtid_seq), 0) AS lo FROM "+src+" WHERE _acode_op = 'r'")
	var lo uint64
	fmt.Sscan(fmt.Sprint(res[0]["lo"]), &lo)
	return lo
}

// checkNewestRows asserts that the newest change per key, deletes and
// retracted transactions left out, is the source table's content, value
// for value.
func checkNewestRows(t *testing.T, e *cdcEnv, duck *testenv.Duck) {
	t.Helper()
	checkNewestRowsOn(t, e, e.primary, duck)
}

// checkNewestRowsOn is checkNewestRows against server (after a promotion).
func checkNewestRowsOn(t *testing.T, e *cdcEnv, server *testenv.MariaDB, duck *testenv.Duck) {
	t.Helper()
	src := "read_parquet(" + testenv.SQLString(e.changeLogGlob(demo.TableDiario)) + ", hive_partitioning=true, union_by_name=true)"
	rows := duck.Query(t, `SELECT idpk, CAST(ACODE_Val_Total AS VARCHAR) AS v, CNPJ, CAST(Data AS VARCHAR) AS d FROM (
		SELECT *, row_number() OVER (PARTITION BY idpk ORDER BY _acode_gtid_domain, _acode_gtid_seq DESC, _acode_txn_seq DESC) AS rn FROM `+src+`
		WHERE _acode_gtid NOT IN (SELECT _acode_gtid FROM `+src+` WHERE _acode_op = 'x'))
		WHERE rn = 1 AND _acode_op <> 'd' ORDER BY idpk`)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%v|%v|%v|%v", r["idpk"], r["v"], r["CNPJ"], r["d"]))
	}
	res, err := server.Root(t).Query("SELECT idpk, CAST(ACODE_Val_Total AS CHAR), CNPJ, CAST(Data AS CHAR) FROM `" + e.database + "`.`" + demo.TableDiario + "` ORDER BY idpk")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var want []string
	for res.Next() {
		var id int64
		var v, c, d string
		if err := res.Scan(&id, &v, &c, &d); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%d|%s|%s|%s", id, v, c, d))
	}
	sort.Strings(got)
	sort.Strings(want)
	if d := diff(want, got); d != "" {
		t.Errorf("newest row per key in the change log differs from the source (%d rows there, %d here): %s", len(want), len(got), d)
	}
}

func TestRun_LandsEveryTransactionOnceWithItsRowImages(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o, err := cdc.Open(ctx, p, cdcConnection, st, log)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	done := make(chan error, 1)
	go func() { done <- cdc.Run(ctx, o.Config) }()
	// No backfill yet: the streams start at the server's position when
	// their first checkpoint is saved, so the writer waits for that.
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })

	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 150, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Lag from the commit on the primary to the commit in the change log,
	// through the replica: the target is p95 <= 2 x flush_interval (MySQL's
	// commit times are whole seconds: one more second of rounding).
	tot := o.Stats.Snapshot()
	t.Logf("%d transactions, %d changes; lag p50 %s, p95 %s, max %s with flush_interval 1s", tot.Transactions, tot.Changes, tot.LagP50, tot.LagP95, tot.LagMax)
	if tot.Transactions < 150 || tot.LagP95 > 3*time.Second {
		t.Errorf("lag p95 %s over %d transactions; want <= 3s", tot.LagP95, tot.Transactions)
	}
	checkExactlyOnce(t, e, w, duck)
	checkNewestRows(t, e, duck)

	// Types: the complemento row image keeps ENUM labels, BIGINT UNSIGNED,
	// BINARY bytes, DATETIME and TIMESTAMP exactly.
	src := "read_parquet(" + testenv.SQLString(e.changeLogGlob(demo.TableComplemento)) + ", hive_partitioning=true)"
	res := duck.Run(t, `SELECT CAST(Protocolo AS VARCHAR) AS p, Situacao AS s, hex(XML_Hash) AS h, CAST(Data_Emissao AS VARCHAR) AS e,
		epoch(Data_Autorizacao)::BIGINT AS a, _acode_op AS op, CAST(cog_dt_ingestion AS VARCHAR) AS day,
		_ab_cdc_log_file AS f, _ab_cdc_log_pos AS pos FROM `+src+` WHERE idpk = 5`,
		"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+src+")")
	if len(res[0].Rows) != 1 {
		t.Fatalf("complemento idpk 5: %d change rows, want 1", len(res[0].Rows))
	}
	r := res[0].Rows[0]
	var wp, ws, wh, we string
	var wa int64
	if err := e.primary.Root(t).QueryRow("SELECT CAST(Protocolo AS CHAR), Situacao, HEX(XML_Hash), CAST(Data_Emissao AS CHAR), UNIX_TIMESTAMP(Data_Autorizacao) FROM `"+
		e.database+"`.`"+demo.TableComplemento+"` WHERE idpk = 5").Scan(&wp, &ws, &wh, &we, &wa); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%v|%v|%v|%v|%v|%v", r["p"], r["s"], r["h"], r["e"], r["a"], r["op"])
	if exp := fmt.Sprintf("%s|%s|%s|%s|%d|c", wp, ws, wh, we, wa); got != exp {
		t.Errorf("complemento idpk 5 in the change log: %s, source %s", got, exp)
	}
	if r["day"] != time.Now().UTC().Format("2006-01-02") || r["f"] == "" || fmt.Sprint(r["pos"]) == "0" {
		t.Errorf("partition %v, log file %v, position %v: want today's partition and the binlog coordinates", r["day"], r["f"], r["pos"])
	}
	types := map[string]string{}
	for _, c := range res[1].Rows {
		types[fmt.Sprint(c["column_name"])] = fmt.Sprint(c["column_type"])
	}
	for col, typ := range map[string]string{"Protocolo": "UBIGINT", "Valor_Frete": "DECIMAL(15,2)", "_ab_cdc_updated_at": "TIMESTAMP WITH TIME ZONE",
		"_acode_gtid_seq": "UBIGINT", "_acode_op": "VARCHAR"} {
		if types[col] != typ {
			t.Errorf("column %s is %s in the change log, want %s", col, types[col], typ)
		}
	}
	// Every committed file is in its partition's manifest; nothing else is.
	files, _ := filepath.Glob(e.changeLogGlob(demo.TableDiario))
	if len(files) < 2 {
		t.Errorf("%d change-log files for diario; a 1 s flush over the run should give several", len(files))
	}
}
