package syncer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/mysqldriver"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/testenv"
)

const diario = "farmarcas_si_analitico_diario"

// seeded creates the ACODE tables with rows diario rows in a fresh database
// of the shared MariaDB.
func seeded(t *testing.T, rows int) (*testenv.MariaDB, string) {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	ctx := context.Background()
	root := m.Root(t)
	if err := demo.CreateSchema(ctx, root, database); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Fill(ctx, root, database, demo.Options{Rows: rows, Seed: 7, Days: 3, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return m, database
}

func count(t *testing.T, db *sql.DB, database, table string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow("SELECT COUNT(*) FROM `" + database + "`.`" + table + "`").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSync_SeedConnectionToS3_AllStreamsRowForRow(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 12000)
	s3 := testenv.StartS3(t)
	f := newFixture(t, m, database, s3)

	res, err := f.run(t, "connection_mysql_s3_acode", Options{})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if res.Status != "succeeded" || len(res.Streams) != 3 {
		t.Fatalf("status %s with %d streams, want succeeded with 3", res.Status, len(res.Streams))
	}
	duck := testenv.DuckDB(t)
	day := res.StartedAt.UTC().Format("2006-01-02")
	for _, s := range res.Streams {
		want := count(t, m.Root(t), database, s.Name)
		if s.Rows != want || s.Status != "committed" {
			t.Errorf("%s: %s with %d rows, table has %d", s.Name, s.Status, s.Rows, want)
		}
		wantPartition := "origin=airbyte/database=bronze_acode/" + s.Name + "/cog_dt_ingestion=" + day
		if s.Partition != wantPartition {
			t.Errorf("%s: partition %q, want %q", s.Name, s.Partition, wantPartition)
		}
		for i, key := range s.Files {
			wantName := fmt.Sprintf("file_%s_%s_%d_%03d.parquet", s.Name, strings.ReplaceAll(day, "-", ""), res.JobID, i+1)
			if filepath.Base(key) != wantName {
				t.Errorf("file %d = %s, want %s", i, key, wantName)
			}
		}
		glob := testenv.SQLString(filepath.Join(s3.Dir, f.Bucket, s.Partition, "*.parquet"))
		got := duck.Query(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS k FROM read_parquet("+glob+")")
		if got[0]["n"] != fmt.Sprint(want) || got[0]["k"] != fmt.Sprint(want) {
			t.Errorf("%s: DuckDB reads %v rows / %v distinct keys, want %d", s.Name, got[0]["n"], got[0]["k"], want)
		}
	}
	// Row for row on the multi-chunk stream, every column as text.
	glob := testenv.SQLString(filepath.Join(s3.Dir, f.Bucket, res.Streams[0].Partition, "*.parquet"))
	compareRows(t, m.Root(t), database, diario, duck, glob)
}

// compareRows checks that the Parquet files hold exactly the table's rows.
func compareRows(t *testing.T, db *sql.DB, database, table string, duck *testenv.Duck, glob string) {
	t.Helper()
	q := "SELECT CONCAT_WS('|', idpk, ACODE_Val_Total, CNPJ, CNPJ_Fornecedor, Data, Data_Processamento, EAN, Fornecedor, NF_Numero, Qtd_Trib, Val_Prod, CFOP, NCM, CST, Aliquota_ICMS) FROM `" + database + "`.`" + table + "` ORDER BY idpk"
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
	}
	rows.Close()
	got := duck.Query(t, "SELECT concat_ws('|', idpk, ACODE_Val_Total, CNPJ, CNPJ_Fornecedor, Data, Data_Processamento, EAN, Fornecedor, NF_Numero, Qtd_Trib, Val_Prod, CFOP, NCM, CST, Aliquota_ICMS) AS r FROM read_parquet("+glob+") ORDER BY idpk")
	if len(got) != len(want) {
		t.Fatalf("files hold %d rows, table %d", len(got), len(want))
	}
	for i := range want {
		if got[i]["r"] != want[i] {
			t.Fatalf("row %d differs:\n table %s\n files %v", i, want[i], got[i]["r"])
		}
	}
}

func partFiles(t *testing.T, root, partition string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, partition))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestSync_RerunSameDayReplacesSnapshot(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 3000)
	f := newFixture(t, m, database, nil)
	first, err := f.run(t, "connection_mysql_local_acode", Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Exec(t, "INSERT INTO `"+database+"`.`"+diario+"` (CNPJ, Data) VALUES ('11222333000181', '2025-08-07')")
	second, err := f.run(t, "connection_mysql_local_acode", Options{})
	if err != nil {
		t.Fatal(err)
	}
	part := second.Streams[0].Partition
	if first.Streams[0].Partition != part {
		t.Fatalf("the two runs wrote different partitions: %s, %s", first.Streams[0].Partition, part)
	}
	var want []string
	for _, k := range second.Streams[0].Files {
		want = append(want, filepath.Base(k))
	}
	want = append(want, layout.ManifestName, layout.SuccessName)
	sort.Strings(want)
	if got := partFiles(t, f.LocalRoot(), part); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("partition holds %v, want only the second job's files %v", got, want)
	}
	staging := filepath.Join(f.LocalRoot(), layout.StagingRoot("origin=airbyte/database=bronze_acode", "connection_mysql_local_acode"))
	if n := countFiles(t, staging); n != 0 {
		t.Errorf("%d staged files left after two committed jobs", n)
	}
	store, _ := file.New(f.LocalRoot())
	man, err := snapshot.ReadManifest(context.Background(), store, part+"/"+layout.ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	if man.JobID != second.JobID || man.Rows != count(t, m.Root(t), database, diario) {
		t.Errorf("manifest: job %d rows %d, want job %d rows %d", man.JobID, man.Rows, second.JobID, count(t, m.Root(t), database, diario))
	}
	duck := testenv.DuckDB(t)
	got := duck.Query(t, "SELECT count(*)::VARCHAR AS n FROM read_parquet("+testenv.SQLString(filepath.Join(f.LocalRoot(), part, "*.parquet"))+")")
	if got[0]["n"] != fmt.Sprint(man.Rows) {
		t.Errorf("readers of the partition see %v rows, want %d", got[0]["n"], man.Rows)
	}
}

func TestSync_CancelledJobLeavesPreviousSnapshotAndNoStaging(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 4000)
	f := newFixture(t, m, database, nil)
	first, err := f.run(t, "connection_mysql_local_acode", Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := partFiles(t, f.LocalRoot(), first.Streams[0].Partition)

	f.Settings(t, "chunk_rows: 500", "file_size_mb: 1", "max_rows_per_second: 4000", "max_parallel_reads: 1")
	ctx, cancel := context.WithCancel(context.Background())
	progress := NewProgress()
	go func() {
		for ctx.Err() == nil {
			for _, s := range progress.Streams() {
				if s.Name == diario && s.Rows() > 1500 {
					cancel()
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	p := f.project(t)
	res, err := runWith(ctx, t, p, "connection_mysql_local_acode", Options{Progress: progress})
	cancel()
	if err == nil || res.Status != "cancelled" {
		t.Fatalf("want a cancelled job, got %v (%v)", res.Status, err)
	}
	if after := partFiles(t, f.LocalRoot(), first.Streams[0].Partition); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("partition changed by a cancelled job:\n before %v\n after  %v", before, after)
	}
	staging := filepath.Join(f.LocalRoot(), layout.StagingRoot("origin=airbyte/database=bronze_acode", "connection_mysql_local_acode"))
	if n := countFiles(t, staging); n != 0 {
		t.Errorf("%d staged files left by the cancelled job", n)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return n
}

func TestSync_RetryResumesRangesAlreadyUploaded(t *testing.T) {
	t.Parallel()
	// Its own server: the test kills it mid-job and restarts it before the retry.
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	database := m.NewDatabase(t)
	demotest.Fill(t, m, database, demo.Options{Rows: 40000, Seed: 3, Days: 2, Now: time.Now()})
	plantOutliers(t, m.Root(t), database)
	want := count(t, m.Root(t), database, diario)
	f := newFixture(t, m, database, nil)
	// About 15k rows fill 1 MiB: the first parts are uploaded well before the kill.
	f.Settings(t, "chunk_rows: 1000", "file_size_mb: 1", "max_rows_per_second: 20000", "max_parallel_reads: 1", "parallel_streams: 1")
	progress := NewProgress()
	killed := killAfter(t, m, progress, 25000)
	restart := func(context.Context, time.Duration) error { <-killed; m.Restart(t); return nil }
	res, err := f.run(t, "connection_mysql_local_acode", Options{MaxAttempts: 2, Sleep: restart, Progress: progress})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if res.Attempts != 2 {
		t.Fatalf("attempts = %d, want 2 (killing the server should fail the first)", res.Attempts)
	}
	s := res.Streams[0]
	if s.RangesResumed == 0 {
		t.Errorf("the retry re-read every range; want it to skip the ones uploaded by attempt 1")
	}
	// The parts of attempt 1 carry their statistics: the rules needing
	// every row still run over all of them.
	st, err := state.Open(context.Background(), f.project(t).Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkEveryRowRules(t, st, m.Root(t), database, res.JobID)
	duck := testenv.DuckDB(t)
	got := duck.Query(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS k FROM read_parquet("+testenv.SQLString(filepath.Join(f.LocalRoot(), s.Partition, "*.parquet"))+")")
	if got[0]["n"] != fmt.Sprint(want) || got[0]["k"] != fmt.Sprint(want) {
		t.Errorf("after resume: %v rows / %v keys, want %d exactly once each", got[0]["n"], got[0]["k"], want)
	}
}

func TestSync_IncrementalReadsOnlyNewRowsAndAppendsToPartition(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 2000)
	f := newFixture(t, m, database, nil)
	conn := "connections/connection_mysql_local_acode/configuration.yaml"
	data, _ := os.ReadFile(filepath.Join(f.Dir, conn))
	// Make the first stream incremental on idpk.
	s := strings.Replace(string(data), "cursor_field: []\n          destination_sync_mode: append\n          primary_key:\n            - - idpk\n          selected: true\n          sync_mode: full_refresh",
		"cursor_field: [idpk]\n          destination_sync_mode: append\n          primary_key:\n            - - idpk\n          selected: true\n          sync_mode: incremental", 1)
	if s == string(data) {
		t.Fatal("could not make the stream incremental")
	}
	if err := os.WriteFile(filepath.Join(f.Dir, conn), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}

	first, err := f.run(t, "connection_mysql_local_acode", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Valid rows: the seed's null_tolerance (EAN <= 10%) quarantines an increment of NULL EANs.
	m.Exec(t, "INSERT INTO `"+database+"`.`"+diario+"` (CNPJ, Data, EAN) VALUES ('11222333000181', '2025-08-07', '7891000100103'), ('11222333000181', '2025-08-08', '7891000100103')")
	second, err := f.run(t, "connection_mysql_local_acode", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Streams[0].Rows != 2000 || second.Streams[0].Rows != 2 {
		t.Errorf("incremental rows: first %d, second %d; want 2000 then 2", first.Streams[0].Rows, second.Streams[0].Rows)
	}
	duck := testenv.DuckDB(t)
	got := duck.Query(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS k FROM read_parquet("+testenv.SQLString(filepath.Join(f.LocalRoot(), second.Streams[0].Partition, "*.parquet"))+")")
	if got[0]["n"] != "2002" || got[0]["k"] != "2002" {
		t.Errorf("partition after two incremental jobs: %v rows / %v keys, want 2002", got[0]["n"], got[0]["k"])
	}
}

// A failure of the source or the destination commits nothing; a missing
// table fails its own stream only.
func TestSync_FailuresAreClearAndCommitNothing(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 500)
	s3 := testenv.StartS3(t)
	cases := []struct {
		name    string
		mutate  func(f *fixture)
		wantSrc bool
		check   func(t *testing.T, err error)
	}{
		{"wrong password", func(f *fixture) { f.Env["ACODE_PASS"] = "not-the-password" }, true, func(t *testing.T, err error) {
			var me *mysqldriver.MySQLError
			if !errors.As(err, &me) || me.Number != 1045 {
				t.Errorf("want MySQL error 1045 in the chain, got %v", err)
			}
		}},
		{"unknown table", func(f *fixture) {
			f.DB.Exec(t, "RENAME TABLE `"+f.Database+"`.`farmarcas_si_analitico_diario_produtos` TO `"+f.Database+"`.`produtos_old`")
		}, true, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "farmarcas_si_analitico_diario_produtos") {
				t.Errorf("error does not name the table: %v", err)
			}
		}},
		{"unreachable host", func(f *fixture) {
			f.Edit(t, "sources/source_mysql_acode/configuration.yaml", fmt.Sprintf("port: %d", f.DB.Port), "port: 1")
		}, true, nil},
		{"bad bucket", func(f *fixture) {
			f.Edit(t, "destinations/destination_s3_acode/configuration.yaml", "s3_bucket_name: "+f.Bucket, "s3_bucket_name: no-such-bucket-acode")
		}, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := database
			if tc.name == "unknown table" { // it renames a table: give it its own copy
				_, db = seeded(t, 200)
			}
			f := newFixture(t, m, db, s3)
			tc.mutate(f)
			res, err := f.run(t, "connection_mysql_s3_acode", Options{})
			if err == nil {
				t.Fatal("sync succeeded")
			}
			var se *failure.SourceError
			var de *failure.DestinationError
			if tc.wantSrc && !errors.As(err, &se) || !tc.wantSrc && !errors.As(err, &de) {
				t.Errorf("error class: %T %v", err, err)
			}
			if res.Status != "failed" {
				t.Errorf("status %s, want failed", res.Status)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			out, _ := json.Marshal(res)
			if strings.Contains(err.Error()+string(out), testPass) || strings.Contains(err.Error()+string(out), s3.SecretKey) {
				t.Errorf("a secret leaked into the error or result: %s", out)
			}
			if tc.name == "unknown table" {
				// Streams are independent: the missing table fails its
				// stream alone, and the others commit.
				for _, st := range res.Streams {
					want := StreamCommitted
					if st.Name == "farmarcas_si_analitico_diario_produtos" {
						want = StreamFailed
					}
					if st.Status != want {
						t.Errorf("%s: %s (%s), want %s", st.Name, st.Status, st.Error, want)
					}
				}
				return
			}
			if n := countFiles(t, filepath.Join(s3.Dir, f.Bucket, "origin=airbyte")); n != 0 {
				t.Errorf("%d objects committed by a failed job", n)
			}
		})
	}
}

func TestSync_JobEndedElsewhereStopsTheRun(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 20000)
	f := newFixture(t, m, database, nil)
	f.Settings(t, "chunk_rows: 1000", "max_rows_per_second: 5000", "max_parallel_reads: 1")
	p := f.project(t)
	other, err := state.Open(context.Background(), p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	created := make(chan state.Job, 1)
	done := make(chan struct{})
	var res *Result
	go func() {
		defer close(done)
		res, err = runWith(context.Background(), t, p, "connection_mysql_local_acode", Options{
			heartbeatEvery: 20 * time.Millisecond,
			OnJobCreated:   func(j state.Job) state.RunLease { created <- j; return state.RunLease{} },
		})
	}()
	job := <-created
	// Mid-run: the job is running and its heartbeat has beaten once, so the
	// end is found by the heartbeat, not at the start.
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := other.Job(context.Background(), job.ID)
		if err == nil && j.Status == state.JobRunning && j.StartedAt != nil && j.HeartbeatAt.After(*j.StartedAt) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d not running with a heartbeat within 30s: %+v, %v", job.ID, j, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// What the API's cancel of a job run by another process does.
	if err := other.SetJobStatus(context.Background(), job.ID, state.JobCancelled, "cancelled from the API"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not stop after its job was ended elsewhere")
	}
	if !errors.Is(err, failure.ErrCancelled) || res.Status != "cancelled" {
		t.Fatalf("want a cancelled run, got %s: %v", res.Status, err)
	}
	if res.Streams != nil && res.Streams[0].Status == "committed" {
		t.Errorf("a stream committed after its job was cancelled")
	}
}

// A process killed in the middle of an upload leaves a temp file that is no
// object (List never shows it); the next job of the connection removes it.
func TestSync_RemovesDebrisOfAnUploadKilledMidway(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 100)
	f := newFixture(t, m, database, nil)
	dir := filepath.Join(f.LocalRoot(), layout.StagingPrefix("origin=airbyte/database=bronze_acode", "connection_mysql_local_acode", 99), diario)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	debris := filepath.Join(dir, ".acode-tmp-1234")
	if err := os.WriteFile(debris, []byte("half a part"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(t, "connection_mysql_local_acode", Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(debris); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed upload's temp file is still there (%v)", err)
	}
}

// killAfter kills the server once the diario stream has read rows rows
// (or after a minute); the channel closes when that is done.
func killAfter(t *testing.T, m *testenv.MariaDB, progress *Progress, rows int64) <-chan struct{} {
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			for _, s := range progress.Streams() {
				if s.Name == diario && s.Rows() > rows {
					m.Kill(t)
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return killed
}
