package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

var acodeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "acode-bin-")
	if err != nil {
		panic(err)
	}
	acodeBin = filepath.Join(dir, "acode")
	if out, err := exec.Command("go", "build", "-o", acodeBin, ".").CombinedOutput(); err != nil {
		panic("build acode: " + err.Error() + "\n" + string(out))
	}
	testenv.Main(m, func() { os.RemoveAll(dir) })
}

// acode runs the real binary against the project and returns stdout, stderr
// and the exit code.
func acode(t *testing.T, p *testenv.Project, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(acodeBin, append([]string{"--config", p.Dir}, args...)...)
	cmd.Env = p.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func seededProject(t *testing.T, rows int, s3 *testenv.S3Server) *testenv.Project {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	demotest.Fill(t, m, database, demo.Options{Rows: rows, Seed: 11, Days: 2, Now: time.Now()})
	return testenv.NewProject(t, m, database, s3)
}

type syncJSON struct {
	JobID     int64     `json:"job_id"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Error     string    `json:"error"`
	Streams   []struct {
		Name      string   `json:"name"`
		Rows      int64    `json:"rows"`
		Bytes     int64    `json:"bytes"`
		Files     []string `json:"files"`
		Partition string   `json:"partition"`
	} `json:"streams"`
}

func TestCLI_SyncJSONToS3(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 3000, s3)
	out, stderr, code := acode(t, p, "sync", "--json", "connection_mysql_s3_acode")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var r syncJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if r.JobID == 0 || r.Status != "succeeded" || r.StartedAt.IsZero() || !r.EndedAt.After(r.StartedAt) || len(r.Streams) != 3 {
		t.Fatalf("unexpected result: %+v", r)
	}
	for _, s := range r.Streams {
		if s.Rows == 0 || s.Bytes == 0 || len(s.Files) == 0 || s.Partition == "" {
			t.Errorf("stream %s: %+v", s.Name, s)
		}
		for _, k := range s.Files {
			if _, err := os.Stat(s3.ObjectPath(p.Bucket, k)); err != nil {
				t.Errorf("object %s not in the bucket: %v", k, err)
			}
		}
	}
	if strings.Contains(out+stderr, testenv.ProjectPassword) || strings.Contains(out+stderr, s3.SecretKey) {
		t.Error("a secret appears in the output")
	}
	// Nor in what acode stores: the state database and the bucket (manifests).
	for _, root := range []string{filepath.Join(p.Dir, ".acode"), filepath.Join(s3.Dir, p.Bucket)} {
		filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return nil
			}
			data, _ := os.ReadFile(path)
			for _, secret := range []string{testenv.ProjectPassword, s3.SecretKey} {
				if bytes.Contains(data, []byte(secret)) {
					t.Errorf("%s holds a secret", path)
				}
			}
			return nil
		})
	}
	jobs, _, code := acode(t, p, "jobs")
	if code != 0 || !strings.Contains(jobs, "connection_mysql_s3_acode") || !strings.Contains(jobs, "succeeded") {
		t.Errorf("acode jobs (exit %d):\n%s", code, jobs)
	}
	if !strings.Contains(jobs, "farmarcas_si_analitico_diario committed") {
		t.Errorf("acode jobs does not list the streams:\n%s", jobs)
	}
	raw, _, _ := acode(t, p, "jobs", "--json")
	var listed []struct {
		ID      int64
		Streams []struct{ Stream, Status, Error string }
	}
	if err := json.Unmarshal([]byte(raw), &listed); err != nil || len(listed) != 1 || listed[0].ID != r.JobID || len(listed[0].Streams) != 3 {
		t.Fatalf("acode jobs --json (%v):\n%s", err, raw)
	}
	for _, s := range listed[0].Streams {
		if s.Stream == "" || s.Status != "committed" {
			t.Errorf("acode jobs --json stream %+v", s)
		}
	}
}

func TestCLI_ExitCodesNameTheProblem(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	cases := []struct {
		name   string
		mutate func(p *testenv.Project)
		code   int
		want   string
	}{
		{"unset variable", func(p *testenv.Project) { delete(p.Env, "ACODE_PASS") }, exitConfig,
			"sources/source_mysql_acode/configuration.yaml:"},
		{"wrong password", func(p *testenv.Project) { p.Env["ACODE_PASS"] = "wrong" }, exitSource, "1045"},
		{"bad bucket", func(p *testenv.Project) {
			p.Edit(t, "destinations/destination_s3_acode/configuration.yaml", "s3_bucket_name: "+p.Bucket, "s3_bucket_name: missing-bucket")
		}, exitDestination, "missing-bucket"},
		{"unknown connection", func(p *testenv.Project) {}, exitConfig, "connection_mysql_s3_acode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := seededProject(t, 100, s3)
			tc.mutate(p)
			conn := "connection_mysql_s3_acode"
			if tc.name == "unknown connection" {
				conn = "no_such_connection"
			}
			out, stderr, code := acode(t, p, "sync", conn)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out, stderr)
			}
			if !strings.Contains(out+stderr, tc.want) {
				t.Errorf("output does not name %q:\n%s\n%s", tc.want, out, stderr)
			}
			if strings.Contains(out+stderr, testenv.ProjectPassword) {
				t.Error("the password appears in the output")
			}
		})
	}
}

func partition(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestCLI_KillMidJobKeepsSnapshotAndNextRunCleansUp(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 30000, nil)
	out, stderr, code := acode(t, p, "sync", "--json", "connection_mysql_local_acode")
	if code != 0 {
		t.Fatalf("first sync: exit %d\n%s", code, stderr)
	}
	var first syncJSON
	json.Unmarshal([]byte(out), &first)
	part := filepath.Join(p.LocalRoot(), first.Streams[0].Partition)
	before := partition(t, part)

	// A slow second job, killed -9 once it has staged a part.
	p.Settings(t, "chunk_rows: 1000", "file_size_mb: 1", "max_rows_per_second: 15000", "max_parallel_reads: 1")
	cmd := exec.Command(acodeBin, "--config", p.Dir, "sync", "connection_mysql_local_acode")
	cmd.Env = p.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(p.LocalRoot(), layout.StagingRoot("origin=airbyte/database=bronze_acode", "connection_mysql_local_acode"))
	deadline := time.Now().Add(60 * time.Second)
	for countFiles(staging) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if countFiles(staging) == 0 {
		t.Fatal("the killed job staged nothing: the test did not kill it mid-job")
	}
	if after := partition(t, part); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("kill -9 changed the committed partition:\n before %v\n after  %v", before, after)
	}

	// The next run takes over at once, cleans the orphans and commits.
	p.Settings(t, "chunk_rows: 5000", "file_size_mb: 1")
	out, stderr, code = acode(t, p, "sync", "--json", "connection_mysql_local_acode")
	if code != 0 {
		t.Fatalf("sync after kill: exit %d\n%s", code, stderr)
	}
	var third syncJSON
	json.Unmarshal([]byte(out), &third)
	if n := countFiles(staging); n != 0 {
		t.Errorf("%d orphan staged files left after the next run", n)
	}
	want := []string{layout.ManifestName, layout.SuccessName}
	for _, k := range third.Streams[0].Files {
		want = append(want, filepath.Base(k))
	}
	sort.Strings(want)
	if got := partition(t, part); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("partition after recovery holds %v, want %v", got, want)
	}
	jobs, _, _ := acode(t, p, "jobs", "--json")
	if !strings.Contains(jobs, "abandoned") {
		t.Errorf("the killed job is not recorded as abandoned:\n%s", jobs)
	}
}

// waitForRunningJob polls `acode jobs --json` until connection has a
// running job.
func waitForRunningJob(t *testing.T, p *testenv.Project, connection string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _, code := acode(t, p, "jobs", "--json", "--connection", connection)
		var jobs []state.Job
		if code == 0 && json.Unmarshal([]byte(out), &jobs) == nil {
			for _, j := range jobs {
				if j.Status == state.JobRunning {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no running job of %s within 60s:\n%s", connection, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestCLI_SecondSyncOfABusyConnectionIsRefused(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 20000, nil)
	// 20000 rows at 2000 a second: the first job runs for 10 s, long after
	// it holds the connection's job slot.
	p.Settings(t, "chunk_rows: 1000", "max_rows_per_second: 2000", "max_parallel_reads: 1")
	cmd := exec.Command(acodeBin, "--config", p.Dir, "sync", "connection_mysql_local_acode")
	cmd.Env = p.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitForRunningJob(t, p, "connection_mysql_local_acode")
	_, stderr, code := acode(t, p, "sync", "connection_mysql_local_acode")
	if code != exitBusy || !strings.Contains(stderr, "connection_mysql_local_acode") {
		t.Errorf("exit %d, want %d with a message naming the connection:\n%s", code, exitBusy, stderr)
	}
}

func TestCLI_CheckReportsConnectivityAndDrift(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 200, nil)
	out, stderr, code := acode(t, p, "check", "connection_mysql_local_acode")
	if code != 0 || !strings.Contains(out, "all checks passed") {
		t.Fatalf("check on a good project: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, stderr, code := acode(t, p, "sync", "connection_mysql_local_acode"); code != 0 {
		t.Fatalf("sync: %s", stderr)
	}
	// An added column is reported, not drift: the check passes, as the
	// next sync of a failover pair does (older partitions read it as NULL).
	table := "`" + p.Database + "`.`farmarcas_si_analitico_diario`"
	p.DB.Exec(t, "ALTER TABLE "+table+" ADD COLUMN Extra INT")
	out, stderr, code = acode(t, p, "check", "connection_mysql_local_acode")
	if code != 0 || strings.Contains(out, "DRIFT") || !strings.Contains(out, "column Extra added") {
		t.Errorf("check after an added column: exit %d, want 0, the column reported and no DRIFT:\n%s\n%s", code, out, stderr)
	}
	// A dropped column is drift: the stream fails the check.
	p.DB.Exec(t, "ALTER TABLE "+table+" DROP COLUMN Extra, DROP COLUMN Val_Trib")
	out, _, code = acode(t, p, "check", "connection_mysql_local_acode")
	if code != 1 || !strings.Contains(out, "DRIFT") || !strings.Contains(out, "column Val_Trib dropped") || strings.Contains(out, "Extra") {
		t.Errorf("check after a dropped column: exit %d, want 1 and the drop as DRIFT:\n%s", code, out)
	}
}

func TestCLI_DemoWritesFilesDuckDBReadsWithExactTypes(t *testing.T) {
	testenv.SkipShort(t, "the demo's MariaDB primary and replica")
	t.Parallel()
	dir, tmp := t.TempDir(), t.TempDir()
	cmd := exec.Command(acodeBin, "demo", "--rows", "5000", "--dir", dir)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp) // the sandbox servers live there
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("acode demo: %v\n%s", err, out)
	}
	for _, want := range []string{"primary 127.0.0.1:", "replica 127.0.0.1:", "succeeded", "read_parquet("} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	glob := testenv.SQLString(filepath.Join(dir, "origin=airbyte/database=bronze_acode/farmarcas_si_analitico_diario/*/*.parquet"))
	res := testenv.DuckDB(t).Run(t,
		"SELECT count(*)::VARCHAR AS n FROM read_parquet("+glob+", hive_partitioning=true)",
		"SELECT ACODE_Val_Total, Data, CNPJ, cog_dt_ingestion FROM read_parquet("+glob+", hive_partitioning=true) LIMIT 1")
	if res[0].Rows[0]["n"] != "5000" {
		t.Errorf("DuckDB reads %v rows of farmarcas_si_analitico_diario, want 5000", res[0].Rows[0]["n"])
	}
	if got := strings.Join(res[1].Types, ","); got != "DECIMAL(15,2),DATE,VARCHAR,DATE" {
		t.Errorf("DuckDB types %s, want DECIMAL(15,2),DATE,VARCHAR,DATE", got)
	}
	if n, _ := exec.Command("pgrep", "-f", "mariadbd.*"+tmp).Output(); len(n) > 0 {
		t.Errorf("the demo left mariadbd running: pids %s", n)
	}
}
