package cdc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/testenv"
)

// snapshotGlob is where a stream's compacted snapshots are.
func (e *cdcEnv) snapshotGlob(table string) string {
	return filepath.Join(e.project.LocalRoot(), "origin=airbyte", "database=bronze_acode", table, "*", "*.parquet")
}

// diarioRows is the primary's diario, one "idpk|value|CNPJ|Data" line a row.
func diarioRows(t *testing.T, e *cdcEnv) []string {
	t.Helper()
	res, err := e.primary.Root(t).Query("SELECT idpk, CAST(ACODE_Val_Total AS CHAR), CNPJ, CAST(Data AS CHAR) FROM `" + e.database + "`.`" + demo.TableDiario + "`")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var out []string
	for res.Next() {
		var id int64
		var v, c, d string
		if err := res.Scan(&id, &v, &c, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d|%s|%s|%s", id, v, c, d))
	}
	sort.Strings(out)
	return out
}

// duckDiario turns DuckDB rows of diario into diarioRows' lines.
func duckDiario(rows []map[string]any) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%v|%v|%v|%v", r["idpk"], r["v"], r["CNPJ"], r["d"]))
	}
	sort.Strings(out)
	return out
}

// snapshotRows reads one day's compacted diario as DuckDB sees it.
func snapshotRows(t *testing.T, e *cdcEnv, duck *testenv.Duck, day time.Time) []string {
	t.Helper()
	glob := filepath.Join(filepath.Dir(filepath.Dir(e.snapshotGlob(demo.TableDiario))), "cog_dt_ingestion="+day.Format(time.DateOnly), "*.parquet")
	return duckDiario(duck.Query(t, "SELECT idpk, CAST(ACODE_Val_Total AS VARCHAR) AS v, CNPJ, CAST(Data AS VARCHAR) AS d FROM read_parquet("+testenv.SQLString(glob)+")"))
}

func compactor(t *testing.T, e *cdcEnv, keysPerPass int) *cdc.Compactor {
	t.Helper()
	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	return &cdc.Compactor{Project: p, KeysPerPass: keysPerPass}
}

func TestCompact_EachDaysSnapshotIsTheSourceAtThatDaysCheckpoint(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 100, 0); err != nil { // the backfill's rows: 200 in diario
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	_, stop := runInProcess(t, e)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	tomorrow := today.AddDate(0, 0, 1)

	// Today: inserts, updates and deletes after the backfill.
	if err := w.run(ctx, 60, 0); err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	atToday := diarioRows(t, e)
	// Tomorrow (commit time set by SET TIMESTAMP): the next partition.
	w.at = tomorrow.Add(9 * time.Hour)
	if err := w.run(ctx, 60, 0); err != nil {
		t.Fatal(err)
	}
	want = e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	atTomorrow := diarioRows(t, e)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Few keys per pass: the merge runs in several buckets, as a big
	// table's does.
	c := compactor(t, e, 50)
	res, err := c.Compact(ctx, cdcConnection, today)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(atToday, snapshotRows(t, e, duck, today)); d != "" {
		t.Errorf("today's snapshot differs from the source at today's checkpoint (%d rows): %s", len(atToday), d)
	}
	for _, r := range res {
		if r.Did != cdc.Compacted || r.Base != r.Day+" backfill" {
			t.Errorf("first compaction of %s %s: %+v, want compacted from the day's backfill", r.Stream, r.Day, r)
		}
		if r.Stream == demo.TableDiario && (r.Passes < 2 || r.Deleted == 0) {
			t.Errorf("diario: %d passes, %d deletes; want several passes of 50 keys and the writer's deletes", r.Passes, r.Deleted)
		}
	}

	// Tomorrow's snapshot is today's plus tomorrow's changes.
	res, err = c.Compact(ctx, cdcConnection, tomorrow)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(atTomorrow, snapshotRows(t, e, duck, tomorrow)); d != "" {
		t.Errorf("tomorrow's snapshot differs from the source (%d rows): %s", len(atTomorrow), d)
	}
	for _, r := range res {
		if r.Day != tomorrow.Format(time.DateOnly) || r.Did != cdc.Compacted || !strings.HasSuffix(r.Base, "cog_dt_ingestion="+today.Format(time.DateOnly)) {
			t.Errorf("compaction up to tomorrow: %+v; want only tomorrow compacted, on today's snapshot", r)
		}
	}
	if len(res) != len(demo.Tables()) {
		t.Errorf("compaction up to tomorrow: %d results, want one per stream", len(res))
	}

	// Again: nothing changes, not even the manifest's commit.
	store, err := file.New(e.project.LocalRoot())
	if err != nil {
		t.Fatal(err)
	}
	key := "origin=airbyte/database=bronze_acode/" + demo.TableDiario + "/cog_dt_ingestion=" + tomorrow.Format(time.DateOnly) + "/_acode_manifest.json"
	before, err := snapshot.ReadManifest(ctx, store, key)
	if err != nil {
		t.Fatal(err)
	}
	// ... run as a user would.
	cmd := exec.Command(buildAcode(t), "--config", e.project.Dir, "cdc", "compact", cdcConnection, "--day", tomorrow.Format(time.DateOnly), "--json")
	cmd.Env = e.project.Environ()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("acode cdc compact: %v\n%s", err, out)
	}
	var printed struct{ Days []cdc.CompactResult }
	if err := json.Unmarshal(out, &printed); err != nil || len(printed.Days) != len(demo.Tables()) {
		t.Fatalf("acode cdc compact --json: %v\n%s", err, out)
	}
	for _, r := range printed.Days {
		if r.Did != cdc.UpToDate || r.Day != tomorrow.Format(time.DateOnly) {
			t.Errorf("second run: %s %s %s, want up to date", r.Stream, r.Day, r.Did)
		}
	}
	after, err := snapshot.ReadManifest(ctx, store, key)
	if err != nil {
		t.Fatal(err)
	}
	if !after.CommittedAt.Equal(before.CommittedAt) || after.SyncMode != cdc.SyncModeSnapshot || after.Compaction == nil {
		t.Errorf("manifest after a second run: committed %s (before %s), sync_mode %s", after.CommittedAt, before.CommittedAt, after.SyncMode)
	}
	// Every part is listed by its manifest, nothing else is left.
	files, _ := filepath.Glob(e.snapshotGlob(demo.TableDiario))
	listed := 0
	for _, day := range []time.Time{today, tomorrow} {
		m, err := snapshot.ReadManifest(ctx, store, "origin=airbyte/database=bronze_acode/"+demo.TableDiario+"/cog_dt_ingestion="+day.Format(time.DateOnly)+"/_acode_manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		listed += len(m.Files)
	}
	if len(files) != listed {
		t.Errorf("%d snapshot files on disk, %d listed by the manifests", len(files), listed)
	}
}

func TestCompact_MergeOnReadExamplesGiveTheSourceBetweenCompactions(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	// produtos without a primary key: landed, not compacted.
	e.project.Edit(t, "connections/"+cdcConnection+"/configuration.yaml",
		"alias_name: farmarcas_si_analitico_diario_produtos\n          cursor_field: []\n          destination_sync_mode: append\n          primary_key:\n            - - idpk\n",
		"alias_name: farmarcas_si_analitico_diario_produtos\n          cursor_field: []\n          destination_sync_mode: append\n")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 50, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	_, stop := runInProcess(t, e)
	if err := w.run(ctx, 40, 0); err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	today := time.Now().UTC().Truncate(24 * time.Hour)
	// serve's daily compaction, just after midnight: today compacted once,
	// however many leaders look (the fire time is in the shared state).
	c := compactor(t, e, 0)
	c.State = st // the compaction lock, as serve holds it
	night := today.AddDate(0, 0, 1).Add(30 * time.Minute)
	// Two leaders at once (a handover): one of them records the day.
	type daily struct {
		ran bool
		res []cdc.CompactResult
		err error
	}
	both := make(chan daily, 2)
	for range 2 {
		go func() {
			ran, res, err := cdc.CompactDaily(ctx, c, st, cdc.Connections(c.Project), night)
			both <- daily{ran, res, err}
		}()
	}
	var res []cdc.CompactResult
	ran := 0
	for range 2 {
		d := <-both
		if d.err != nil {
			t.Fatalf("daily compaction after midnight: %v", d.err)
		}
		if d.ran {
			ran++
			res = d.res
		}
	}
	if ran != 1 || len(res) != len(demo.Tables()) || res[0].Day != today.Format(time.DateOnly) ||
		(res[0].Did != cdc.Compacted && res[0].Did != cdc.UpToDate) {
		t.Fatalf("daily compaction by two leaders at once: %d recorded the day, %+v; want one, with today's snapshots", ran, res)
	}
	for _, r := range res {
		if (r.Stream == demo.TableProdutos) != (r.Did == cdc.SkippedNoKey) {
			t.Errorf("%s: %s; want only produtos (no primary key) skipped", r.Stream, r.Did)
		}
	}
	if ran, _, err := cdc.CompactDaily(ctx, c, st, cdc.Connections(c.Project), night.Add(time.Hour)); err != nil || ran {
		t.Fatalf("daily compaction an hour later: ran %v, %v; want nothing (done for the day)", ran, err)
	}
	// After the compaction: more changes today and tomorrow, not compacted.
	if err := w.run(ctx, 40, 0); err != nil {
		t.Fatal(err)
	}
	w.at = today.AddDate(0, 0, 1).Add(time.Hour)
	if err := w.run(ctx, 40, 0); err != nil {
		t.Fatal(err)
	}
	want = e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	source := diarioRows(t, e)

	root := filepath.Join("..", "..", "examples", "cdc")
	duckSQL, err := os.ReadFile(filepath.Join(root, "merge_on_read_duckdb.sql"))
	if err != nil {
		t.Fatal(err)
	}
	q := strings.NewReplacer("{snapshot}", e.snapshotGlob(demo.TableDiario), "{changes}", e.changeLogGlob(demo.TableDiario)).Replace(string(duckSQL))
	q = strings.TrimSuffix(strings.TrimSpace(q), ";")
	rows := duck.Query(t, "SELECT idpk, CAST(ACODE_Val_Total AS VARCHAR) AS v, CNPJ, CAST(Data AS VARCHAR) AS d FROM ("+q+")")
	if d := diff(source, duckDiario(rows)); d != "" {
		t.Errorf("DuckDB merge-on-read differs from the source (%d rows): %s", len(source), d)
	}

	// The Athena view, run by DuckDB over the two tables as Glue has them.
	athena, err := os.ReadFile(filepath.Join(root, "merge_on_read_athena.sql"))
	if err != nil {
		t.Fatal(err)
	}
	tables := func(name, glob string) string {
		return "CREATE VIEW " + name + " AS SELECT * REPLACE (CAST(cog_dt_ingestion AS VARCHAR) AS cog_dt_ingestion) FROM read_parquet(" +
			testenv.SQLString(glob) + ", hive_partitioning = true, union_by_name = true)"
	}
	views := duck.Run(t, tables(demo.TableDiario, e.snapshotGlob(demo.TableDiario)),
		tables(demo.TableDiario+"_cdc", e.changeLogGlob(demo.TableDiario)), string(athena),
		"SELECT idpk, CAST(ACODE_Val_Total AS VARCHAR) AS v, CNPJ, CAST(Data AS VARCHAR) AS d FROM "+demo.TableDiario+"_current")
	if d := diff(source, duckDiario(views[3].Rows)); d != "" {
		t.Errorf("Athena merge-on-read view differs from the source (%d rows): %s", len(source), d)
	}
}

// stagedFiles lists what compactions left in the connection's staging area.
func stagedFiles(t *testing.T, e *cdcEnv) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(e.project.LocalRoot(), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.ToSlash(path), "/_acode_staging/"+cdcConnection+"_compact/") {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// slowableS3Destination moves the CDC connection onto an S3 destination
// behind toxiproxy (to slow it with a latency toxic): versitygw's posix
// root is the project directory and the bucket is demo-data, so the
// objects are the files of the local destination the helpers read.
func slowableS3Destination(t *testing.T, e *cdcEnv) *testenv.ToxiProxy {
	t.Helper()
	p := e.project
	s3 := testenv.StartS3On(t, p.Dir)
	bucket := filepath.Base(p.LocalRoot())
	s3.CreateBucket(t, bucket)
	proxy := testenv.StartToxiproxy(t).Proxy(t, "s3", strings.TrimPrefix(s3.Endpoint, "http://"))
	p.Env["FARMARCAS_AWS_ACCESS_KEY_ID"], p.Env["FARMARCAS_AWS_SECRET_ACCESS_KEY"] = s3.AccessKey, s3.SecretKey
	p.Edit(t, "destinations/destination_s3_acode/configuration.yaml",
		"s3_bucket_name: farmarcas-production-bronze", "s3_bucket_name: "+bucket,
		"s3_endpoint: "+testenv.NoS3Endpoint, "s3_endpoint: http://"+proxy.Addr(),
		"s3_bucket_region: us-east-2", "s3_bucket_region: "+s3.Region)
	p.Edit(t, "connections/"+cdcConnection+"/configuration.yaml",
		"destinations/destination_local_acode/configuration.yaml", "destinations/destination_s3_acode/configuration.yaml")
	return proxy
}

// manifestRows is diario's snapshot of day as a reader sees it: the files
// its manifest lists.
func manifestRows(t *testing.T, e *cdcEnv, duck *testenv.Duck, day time.Time) []string {
	t.Helper()
	m := readSnapshotManifest(t, e, day)
	var files []string
	for _, f := range m.Files {
		files = append(files, testenv.SQLString(filepath.Join(e.project.LocalRoot(), filepath.FromSlash(f.Key))))
	}
	return duckDiario(duck.Query(t, "SELECT idpk, CAST(ACODE_Val_Total AS VARCHAR) AS v, CNPJ, CAST(Data AS VARCHAR) AS d FROM read_parquet(["+strings.Join(files, ", ")+"])"))
}

func readSnapshotManifest(t *testing.T, e *cdcEnv, day time.Time) *snapshot.Manifest {
	t.Helper()
	store, err := file.New(e.project.LocalRoot())
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.ReadManifest(context.Background(), store, "origin=airbyte/database=bronze_acode/"+demo.TableDiario+"/cog_dt_ingestion="+day.Format(time.DateOnly)+"/_acode_manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// killAtCopy kills p the moment a part of its snapshot is in the day's
// partition (copied from staging) while the manifest still lists the
// previous snapshot's parts only, and returns that part.
func killAtCopy(t *testing.T, p *cdcProcess, e *cdcEnv, day time.Time, previous *snapshot.Manifest) string {
	t.Helper()
	listed := map[string]bool{}
	for _, f := range previous.Files {
		listed[filepath.Base(f.Key)] = true
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(e.snapshotGlob(demo.TableDiario))), "cog_dt_ingestion="+day.Format(time.DateOnly))
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		parts, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
		for _, part := range parts {
			if !listed[filepath.Base(part)] {
				p.kill(t)
				return part
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("acode cdc compact exited (%v) before a part was copied into %s", p.err, dir)
		case <-time.After(2 * time.Millisecond):
		}
	}
	t.Fatalf("no part of the new snapshot copied into %s in 3m", dir)
	return ""
}

// The real `acode cdc compact` killed with kill -9 at two steps of its
// commit, each seen from outside with every answer of the S3 store
// slowed by 300 ms: once its parts are staged (before the commit), and
// once a part is copied into the partition (before the manifest). Each
// time readers of the manifest see the previous snapshot; the next run
// builds today's snapshot exactly and leaves nothing staged, no file the
// manifest does not list, and an empty scratch dir.
func TestCompact_KilledAtItsCommitStepsLeavesTheOldSnapshotAndIsRedoneByTheNextRun(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	proxy := slowableS3Destination(t, e)
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx := context.Background()
	bin := buildAcode(t)
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 50, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	_, stop := runInProcess(t, e)
	want := e.primaryPosition(t)
	poll(t, time.Minute, "the backfill", func() bool { return e.caughtUp(t, st, want) })
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if _, err := compactor(t, e, 0).Compact(ctx, cdcConnection, today); err != nil {
		t.Fatal(err)
	}
	first := diarioRows(t, e)
	previous := readSnapshotManifest(t, e, today)
	if err := w.run(ctx, 30, 0); err != nil {
		t.Fatal(err)
	}
	want = e.primaryPosition(t)
	poll(t, time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", e.project.Dir, "--log-format", "json", "cdc", "compact", cdcConnection, "--day", today.Format(time.DateOnly)}
	proxy.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 300})

	// 1. Killed once its parts are staged: the next request to the store
	// (the partition's repair, then the copies) takes 300 ms at least.
	p := startProcess(t, exec.Command(bin, args...), e)
	p.waitLog(t, "cdc snapshot staged", 3*time.Minute)
	p.kill(t)
	if d := diff(first, manifestRows(t, e, duck, today)); d != "" {
		t.Errorf("after kill -9 between staging and commit, readers see other than the previous snapshot: %s", d)
	}
	if len(stagedFiles(t, e)) == 0 {
		t.Fatal("nothing staged by the compaction killed after staging: the kill came at another point")
	}

	// 2. Killed once a part is copied into the partition, before the
	// manifest lists it.
	p = startProcess(t, exec.Command(bin, args...), e)
	part := killAtCopy(t, p, e, today, previous)
	if m := readSnapshotManifest(t, e, today); m.CommittedAt != previous.CommittedAt {
		t.Fatalf("the manifest was replaced although the kill came as %s was copied in", filepath.Base(part))
	}
	if d := diff(first, manifestRows(t, e, duck, today)); d != "" {
		t.Errorf("after kill -9 during the copies into the partition, readers see other than the previous snapshot: %s", d)
	}

	// 3. The next run, on a store at full speed, completes exactly.
	proxy.RemoveToxic(t, "slow")
	cmd := exec.Command(bin, args...)
	cmd.Env = e.project.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("acode cdc compact after the kills: %v\n%s", err, out)
	}
	source := diarioRows(t, e)
	if d := diff(source, snapshotRows(t, e, duck, today)); d != "" {
		t.Errorf("snapshot after the next run differs from the source (%d rows): %s", len(source), d)
	}
	if left := stagedFiles(t, e); len(left) != 0 {
		t.Errorf("staging area after the next run: %v", left)
	}
	// What the killed runs downloaded and wrote locally is gone too.
	dir := scratch.Dir{Root: filepath.Join(e.project.Dir, "spool")}.Compact(cdcConnection)
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Errorf("compaction scratch dir %s after the next run: %v (%v)", dir, left, err)
	}
	m := readSnapshotManifest(t, e, today)
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(e.snapshotGlob(demo.TableDiario))), "cog_dt_ingestion="+today.Format(time.DateOnly), "*.parquet"))
	if len(files) != len(m.Files) {
		t.Errorf("%d files in today's snapshot partition, its manifest lists %d", len(files), len(m.Files))
	}
}

func TestCompact_ADayWithAnAddedColumnHasItNullForOlderRows(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 30, 0); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	_, stop := runInProcess(t, e)
	if err := w.run(ctx, 20, 0); err != nil {
		t.Fatal(err)
	}
	q := "`" + e.database + "`.`" + demo.TableDiario + "`"
	e.primary.Exec(t, "ALTER TABLE "+q+" ADD COLUMN Lote VARCHAR(20) NULL")
	if err := w.run(ctx, 20, 0); err != nil {
		t.Fatal(err)
	}
	e.primary.Exec(t, "UPDATE "+q+" SET Lote = CONCAT('L', idpk) WHERE idpk % 4 = 0")
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if _, err := compactor(t, e, 0).Compact(ctx, cdcConnection, today); err != nil {
		t.Fatal(err)
	}
	rows, err := e.primary.Root(t).Query("SELECT idpk, COALESCE(Lote, '-'), CAST(ACODE_Val_Total AS CHAR) FROM " + q)
	if err != nil {
		t.Fatal(err)
	}
	var source []string
	for rows.Next() {
		var id int64
		var lote, v string
		if err := rows.Scan(&id, &lote, &v); err != nil {
			t.Fatal(err)
		}
		source = append(source, fmt.Sprintf("%d|%s|%s", id, lote, v))
	}
	rows.Close()
	glob := filepath.Join(filepath.Dir(filepath.Dir(e.snapshotGlob(demo.TableDiario))), "cog_dt_ingestion="+today.Format(time.DateOnly), "*.parquet")
	var got []string
	for _, r := range duck.Query(t, "SELECT idpk, coalesce(Lote, '-') AS l, CAST(ACODE_Val_Total AS VARCHAR) AS v FROM read_parquet("+testenv.SQLString(glob)+")") {
		got = append(got, fmt.Sprintf("%v|%v|%v", r["idpk"], r["l"], r["v"]))
	}
	sort.Strings(source)
	sort.Strings(got)
	if d := diff(source, got); d != "" || len(source) == 0 {
		t.Errorf("snapshot after ADD COLUMN differs from the source (%d rows): %s", len(source), d)
	}
}

func TestCompact_RefusesAnAirbyteTypedChangeLogNamingIt(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t, "flush_interval: 1s")
	e.project.Edit(t, "acode.yaml", "  chunk_rows: 100\n", "  chunk_rows: 100\n  types: airbyte\n")
	st := e.state(t)
	_, stop := runInProcess(t, e)
	poll(t, time.Minute, "the backfill", func() bool { return e.caughtUp(t, st, e.primaryPosition(t)) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, err := compactor(t, e, 0).Compact(context.Background(), cdcConnection, time.Now().UTC())
	if err == nil || !strings.Contains(err.Error(), "sync.types airbyte") || !strings.Contains(err.Error(), "_cdc/cog_dt_ingestion=") {
		t.Fatalf("compaction of an airbyte-typed change log: %v; want an error naming the partition and sync.types", err)
	}
}
