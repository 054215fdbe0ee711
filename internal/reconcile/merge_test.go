package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/reconcile"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestReconcile_MergesAnIncrementalDayByKeyNewestCursorWinsAndIsIdempotent
// syncs complemento incrementally (cursor Data_Emissao) from a primary and
// a backup database, then plants on the backup only three new rows and a
// newer version of an existing one, synced into the backup's partition.
// Reconcile must merge the primary's partition to exactly the union with
// the newest version of each key, checked row for row with DuckDB against
// the original files of both sides, and a second run changes nothing.
func TestReconcile_MergesAnIncrementalDayByKeyNewestCursorWinsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	primaryDB, backupDB := m.NewDatabase(t), m.NewDatabase(t)
	ctx := context.Background()
	for _, db := range []string{primaryDB, backupDB} {
		if err := demo.CreateSchema(ctx, m.Root(t), db); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := demo.Fill(ctx, m.Root(t), primaryDB, demo.Options{Rows: 1500, Seed: 11, Days: 3, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range demo.Tables() { // the backup starts as an exact replica
		m.Exec(t, "INSERT INTO `"+backupDB+"`.`"+tbl+"` SELECT * FROM `"+primaryDB+"`.`"+tbl+"`")
	}
	s3 := testenv.StartS3(t)
	tp := testenv.NewProject(t, m, primaryDB, s3)
	tp.PointBackup(t, m)
	tp.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", "database: "+primaryDB, "database: "+backupDB)
	incremental := []string{
		"alias_name: farmarcas_si_analitico_diario_complemento\n          cursor_field: []",
		"alias_name: farmarcas_si_analitico_diario_complemento\n          cursor_field: [Data_Emissao]",
		"          selected: true\n          sync_mode: full_refresh\n        stream:\n          name: farmarcas_si_analitico_diario_complemento",
		"          selected: true\n          sync_mode: incremental\n        stream:\n          name: farmarcas_si_analitico_diario_complemento",
	}
	tp.Edit(t, "connections/connection_mysql_s3_acode/configuration.yaml", incremental...)
	tp.Edit(t, "connections/connection_mysql_s3_acode_backup/configuration.yaml", append(incremental, primaryDB, backupDB)...)
	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func(conn, role string) *syncer.Result {
		res, err := (&syncer.Syncer{Project: p, State: st, Log: log}).Run(ctx, conn, syncer.Options{Role: role})
		if err != nil {
			t.Fatalf("sync %s: %v", conn, err)
		}
		return res
	}
	first := run(primaryConn, "primary")
	run(backupConn, "backup")
	const comp = demo.TableComplemento
	var rows int
	if err := m.Root(t).QueryRow("SELECT COUNT(*) FROM `" + primaryDB + "`.`" + comp + "`").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	// While the primary is down the backup gets three new rows and a newer
	// version of row 7 (cursor moved forward, freight changed).
	bt := "`" + backupDB + "`.`" + comp + "`"
	m.Exec(t,
		"INSERT INTO "+bt+" (idpk_analitico, Chave_NFe, Data_Emissao, Situacao, Valor_Frete) SELECT 1, LPAD(seq, 44, '9'), "+
			"(SELECT MAX(Data_Emissao) FROM "+bt+") + INTERVAL seq HOUR, 'autorizada', 1.00 FROM `"+backupDB+"`.seq_1_to_3",
		"UPDATE "+bt+" SET Data_Emissao = (SELECT m FROM (SELECT MAX(Data_Emissao) + INTERVAL 5 HOUR AS m FROM "+bt+") x), Valor_Frete = 12345.67 WHERE idpk = 7")
	if second := run(backupConn, "backup"); second.Streams[2].Rows != 4 {
		t.Fatalf("the backup's increment: %+v, want 4 rows", second.Streams[2])
	}

	partition := func(conn string) string {
		c := p.Connections[conn]
		for _, s := range c.SelectedStreams() {
			if s.Name == comp {
				return validate.StreamLayout(c, s, first.StartedAt).Partition
			}
		}
		t.Fatalf("%s does not select %s", conn, comp)
		return ""
	}
	onDisk := func(conn string) string { return filepath.Join(s3.Dir, tp.Bucket, partition(conn)) }
	before := t.TempDir() // the original files of both sides, for the expected result
	copyParts(t, onDisk(primaryConn), filepath.Join(before, "primary"))
	copyParts(t, onDisk(backupConn), filepath.Join(before, "backup"))

	primary, backup := p.Connections[primaryConn], p.Connections[backupConn]
	day := []time.Time{first.StartedAt}
	dry, err := (&reconcile.Reconciler{Project: p, State: st, Log: log, DryRun: true}).Days(ctx, primary, backup, day)
	if err != nil {
		t.Fatal(err)
	}
	if dry[2].Stream != comp || dry[2].Primary != "partial" || dry[2].Did != "would merge" || dry[0].Did != "nothing" || dry[1].Did != "nothing" {
		t.Fatalf("dry run: %+v", dry)
	}
	// A tiny key budget makes the merge run in several hash buckets: the
	// bounded-memory path must give the same rows.
	acts, err := (&reconcile.Reconciler{Project: p, State: st, Log: log, KeysPerPass: 400}).Days(ctx, primary, backup, day)
	if err != nil {
		t.Fatal(err)
	}
	if a := acts[2]; a.Did != "merged" || a.Rows != int64(rows+3) {
		t.Fatalf("reconcile: %+v, want merged %d rows", a, rows+3)
	}

	duck := testenv.DuckDB(t)
	read := func(dir string, side int) string {
		return "SELECT *, " + strconv.Itoa(side) + " AS side FROM read_parquet(" + testenv.SQLString(filepath.Join(dir, "*.parquet")) +
			", filename=true, file_row_number=true, hive_partitioning=false)"
	}
	expected := "SELECT * EXCLUDE (side, filename, file_row_number) FROM (" + read(filepath.Join(before, "primary"), 0) +
		" UNION ALL BY NAME " + read(filepath.Join(before, "backup"), 1) + ") QUALIFY row_number() OVER " +
		"(PARTITION BY idpk ORDER BY Data_Emissao DESC NULLS LAST, side, filename, file_row_number) = 1"
	merged := "SELECT * FROM read_parquet(" + testenv.SQLString(filepath.Join(onDisk(primaryConn), "*.parquet")) + ", hive_partitioning=false)"
	got := duck.Query(t, "SELECT (SELECT count(*) FROM ("+merged+"))::VARCHAR AS n, (SELECT count(DISTINCT idpk) FROM ("+merged+"))::VARCHAR AS k, "+
		"(SELECT count(*) FROM (("+expected+") EXCEPT ALL ("+merged+")))::VARCHAR AS missing, "+
		"(SELECT count(*) FROM (("+merged+") EXCEPT ALL ("+expected+")))::VARCHAR AS extra, "+
		"(SELECT Valor_Frete::VARCHAR FROM ("+merged+") WHERE idpk = 7) AS frete7, "+
		"(SELECT count(*) FROM ("+merged+") WHERE Chave_NFe LIKE '9999%')::VARCHAR AS added")
	want := strconv.Itoa(rows + 3)
	if g := got[0]; g["n"] != want || g["k"] != want || g["missing"] != "0" || g["extra"] != "0" || g["frete7"] != "12345.67" || g["added"] != "3" {
		t.Fatalf("merged partition: %v; want %s rows, unique keys, exactly the expected rows, row 7's newer version and the 3 backup rows", g, want)
	}

	v, err := validate.Day(ctx, p, primary, first.StartedAt, st, validate.Options{Deep: true})
	if err != nil {
		t.Fatal(err)
	}
	var mf snapshot.Manifest
	readManifest(t, filepath.Join(onDisk(primaryConn), "_acode_manifest.json"), &mf)
	if mf.Merge == nil || mf.Merge.Added != 3 || mf.Merge.Replaced != 1 || mf.Merge.Dropped != int64(rows+1) || mf.Merge.Passes < 2 {
		t.Errorf("manifest merge record: %+v, want 3 added, 1 replaced, %d dropped (each primary row's backup copy, row 7's two older versions), several passes", mf.Merge, rows+1)
	}
	if c := v.Partitions[2]; !v.Passed || c.Status != "promoted" || c.Rows != int64(rows+3) || len(c.StatsDiffs) > 0 {
		t.Fatalf("the merged day must validate deep: passed=%v %+v", v.Passed, c)
	}
	manifest := filepath.Join(onDisk(primaryConn), "_acode_manifest.json")
	mBefore, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	rec := &reconcile.Reconciler{Project: p, State: st, Log: log}
	again, err := rec.Days(ctx, primary, backup, day)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		if a.Did != "nothing" || a.Primary != "valid" {
			t.Errorf("second run changed something: %+v", a)
		}
	}
	if mAfter, _ := os.ReadFile(manifest); string(mAfter) != string(mBefore) {
		t.Error("the second run rewrote the manifest")
	}

	// Next, the primary's new increment is quarantined (UF_Origem NULL on
	// every row, against a null_tolerance rule) while the backup reads the
	// same rows intact: the day is merged, keeping the primary's snapshot.
	rules := p.Settings.Quality.Tables[comp]
	rules.NullTolerance = append(rules.NullTolerance, config.ColumnShare{Column: "UF_Origem", Max: 0.5})
	p.Settings.Quality.Tables[comp] = rules
	plant := func(db, uf string) {
		tbl := "`" + db + "`.`" + comp + "`"
		m.Exec(t, "INSERT INTO "+tbl+" (idpk, idpk_analitico, Chave_NFe, Data_Emissao, Situacao, UF_Origem) SELECT 100000 + seq, 1, LPAD(seq, 44, '8'), "+
			"(SELECT MAX(Data_Emissao) FROM "+tbl+") + INTERVAL 10 + seq HOUR, 'autorizada', "+uf+" FROM `"+db+"`.seq_1_to_2")
	}
	plant(primaryDB, "NULL")
	plant(backupDB, "'SP'")
	if _, err := (&syncer.Syncer{Project: p, State: st, Log: log}).Run(ctx, primaryConn, syncer.Options{Role: "primary"}); !errors.Is(err, quality.ErrValidationFailed) {
		t.Fatalf("the primary's defective increment: %v, want a quality failure", err)
	}
	run(backupConn, "backup")
	acts, err = rec.Days(ctx, primary, backup, day)
	if err != nil {
		t.Fatal(err)
	}
	if a := acts[2]; a.Primary != "quarantined" || a.Did != "merged" || a.Rows != int64(rows+5) {
		t.Fatalf("reconcile of a quarantined incremental day: %+v, want merged %d rows", a, rows+5)
	}
	if v, err := validate.Day(ctx, p, primary, first.StartedAt, st, validate.Options{}); err != nil || !v.Passed {
		t.Fatalf("after merging the quarantined day: %v %+v", err, v.Partitions[2].Report.Results)
	}
}

func readManifest(t *testing.T, path string, m *snapshot.Manifest) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
}

func copyParts(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	matches, err := filepath.Glob(filepath.Join(from, "*.parquet"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no parts in %s: %v", from, err)
	}
	for _, f := range matches {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
