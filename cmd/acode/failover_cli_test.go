package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// pairProject is the example project on a fresh primary filled with the
// seed's three tables and a real binlog replica behind the backup source,
// both connections writing to one versitygw bucket; settings is acode.yaml.
func pairProject(t *testing.T, rows int, settings string) (*testenv.Project, *testenv.MariaDB, *testenv.MariaDB) {
	t.Helper()
	primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	replica := testenv.StartReplica(t, primary)
	s3 := testenv.StartS3(t)
	db := "acode_" + strconv.Itoa(primary.Port)
	demotest.Fill(t, primary, db, demo.Options{Rows: rows, Seed: 5})
	p := testenv.NewProject(t, primary, db, s3)
	primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	p.PointBackup(t, replica)
	if err := os.WriteFile(filepath.Join(p.Dir, config.SettingsFile), []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	replica.WaitReplicaCaughtUp(t, primary)
	return p, primary, replica
}

const pairSettings = `state_db: .acode/state.db
sync:
  chunk_rows: 500
  file_size_mb: 1
  connect_timeout: 2s
%s
health:
  interval: 1s
  connect_timeout: 1s
  query_timeout: 5s
failover:
  backoff_jitter: 0
jobs:
  retries: 0
`

type pairSyncJSON struct {
	JobID    int64  `json:"job_id"`
	Status   string `json:"status"`
	Source   string `json:"source"`
	Failover struct {
		Decisions []struct {
			State      string `json:"state"`
			Transition *struct {
				From, To, Class string
			} `json:"transition"`
		} `json:"decisions"`
		Jobs []struct {
			JobID      int64  `json:"job_id"`
			Connection string `json:"connection"`
			Status     string `json:"status"`
		} `json:"jobs"`
		Promotions []struct {
			Stream, To, Skipped string
		} `json:"promotions"`
	} `json:"failover"`
}

func decodePairSync(t *testing.T, out string) pairSyncJSON {
	t.Helper()
	var r pairSyncJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("sync --json output: %v\n%s", err, out)
	}
	return r
}

func (r pairSyncJSON) transitions() []string {
	var out []string
	for _, d := range r.Failover.Decisions {
		if d.Transition != nil {
			out = append(out, d.Transition.To+"("+d.Transition.Class+")")
		}
	}
	return out
}

func TestCLI_SyncSourceAutoFailsOverAndAKilledAcodeResumesTheFailover(t *testing.T) {
	t.Parallel()
	p, primary, _ := pairProject(t, 6000, fmt.Sprintf(pairSettings, "  max_rows_per_second: 3000"))
	if out, stderr, code := acode(t, p, "sync", "--source", "auto", "--json", "connection_mysql_s3_acode"); code != 0 {
		t.Fatalf("first sync: exit %d\n%s%s", code, out, stderr)
	}
	primary.Kill(t)

	// acode is killed -9 while the failover's backup job runs.
	cmd := exec.Command(acodeBin, "--config", p.Dir, "sync", "--source", "auto", "--json", "connection_mysql_s3_acode")
	cmd.Env = p.Environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), filepath.Join(p.Dir, ".acode", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := st.ListJobs(context.Background(), state.JobFilter{Connection: "connection_mysql_s3_acode_backup"})
		if err == nil && len(jobs) == 1 && jobs[0].Status == state.JobRunning {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no running backup job within 30s (%+v, %v):\n%s", jobs, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()

	out, errOut, code := acode(t, p, "sync", "--source", "auto", "--json", "connection_mysql_s3_acode")
	if code != 0 {
		t.Fatalf("sync after the restart: exit %d\n%s%s", code, out, errOut)
	}
	r := decodePairSync(t, out)
	if len(r.transitions()) != 0 || r.Source != "backup" || r.Status != "succeeded" || len(r.Failover.Jobs) != 1 ||
		r.Failover.Jobs[0].Connection != "connection_mysql_s3_acode_backup" || len(r.Failover.Promotions) != 3 {
		t.Errorf("resumed run: %s", out)
	}
	out, _, _ = acode(t, p, "status")
	if !strings.Contains(out, "state:    backup_active") || !strings.Contains(out, "primary_db_down") {
		t.Errorf("status:\n%s", out)
	}
	if strings.Contains(out+errOut, testenv.ProjectPassword) {
		t.Error("password in output")
	}
}

func TestCLI_SyncSourceNeedsAPairAndSaysWhyNothingSynced(t *testing.T) {
	t.Parallel()
	p, primary, replica := pairProject(t, 1000, fmt.Sprintf(pairSettings, ""))
	if _, stderr, code := acode(t, p, "sync", "--source", "auto", "connection_mysql_local_acode"); code != exitConfig ||
		!strings.Contains(stderr, "no failover pair") {
		t.Errorf("unpaired connection: exit %d %s", code, stderr)
	}
	if _, stderr, code := acode(t, p, "sync", "--source", "sideways", "connection_mysql_s3_acode"); code == 0 || !strings.Contains(stderr, "auto, primary or backup") {
		t.Errorf("bad --source: exit %d %s", code, stderr)
	}
	// The replica stops, then the primary dies: nothing may be synced.
	if _, _, code := acode(t, p, "health"); code > 1 {
		t.Fatalf("health: exit %d", code)
	}
	replica.Exec(t, "STOP SLAVE")
	if _, _, code := acode(t, p, "health"); code != 2 {
		t.Fatalf("health with the replica stopped: exit %d", code)
	}
	primary.Kill(t)
	out, stderr, code := acode(t, p, "sync", "--source", "auto", "connection_mysql_s3_acode")
	if code != exitNotSynced || !strings.Contains(out+stderr, "both unavailable") {
		t.Errorf("both unavailable: exit %d\n%s%s", code, out, stderr)
	}
	// By hand, the backup is still reachable on purpose.
	out, stderr, code = acode(t, p, "sync", "--source", "backup", "connection_mysql_s3_acode")
	if code != 0 || !strings.Contains(out, "promoted ") {
		t.Errorf("--source backup: exit %d\n%s%s", code, out, stderr)
	}
}

func TestServe_HealthLoopFailsOverAndAirflowsJobReadsTheBackup(t *testing.T) {
	t.Parallel()
	p, primary, _ := pairProject(t, 1000, fmt.Sprintf(pairSettings, ""))
	sp := startServe(t, p)
	st, err := state.Open(context.Background(), filepath.Join(p.Dir, ".acode", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The health loop has measured the replica while the primary is up: the
	// backup is eligible (without it, failover would rightly refuse).
	deadline := time.Now().Add(30 * time.Second)
	for {
		fs, err := st.FailoverState(context.Background(), "connection_mysql_s3_acode")
		if err == nil && fs.BackupReplicating != nil && *fs.BackupReplicating {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the health loop did not measure the replica within 30s (%+v, %v):\n%s", fs, err, sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	primary.Kill(t)

	deadline = time.Now().Add(20 * time.Second)
	for {
		fs, err := st.FailoverState(context.Background(), "connection_mysql_s3_acode")
		if err == nil && fs.State == "backup_active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failover recorded within 20s of the kill (%+v, %v):\n%s", fs, err, sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	trs, err := st.FailoverTransitions(context.Background(), "connection_mysql_s3_acode", 5)
	if err != nil || len(trs) != 1 || trs[0].Who != "auto" || trs[0].Class != "primary_db_down" {
		t.Errorf("transitions: %+v, %v", trs, err)
	}

	// Airflow triggers the primary connection as always; the job reads the backup.
	conn, err := loadConnectionID(p, "connection_mysql_s3_acode")
	if err != nil {
		t.Fatal(err)
	}
	code, body := sp.post(t, "connections/sync", map[string]any{"connectionId": conn})
	if code != 200 {
		t.Fatalf("trigger: %d %v\n%s", code, body, sp.stderr)
	}
	id := jobField(body, "id")
	deadline = time.Now().Add(60 * time.Second)
	for {
		_, body = sp.post(t, "jobs/get", map[string]any{"id": id})
		if s := jobField(body, "status"); s == "succeeded" || s == "failed" {
			if s != "succeeded" {
				t.Fatalf("job: %v\n%s", body, sp.stderr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job did not end in 60s: %v", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	j, err := st.Job(context.Background(), int64(id.(float64)))
	if err != nil || j.Connection != "connection_mysql_s3_acode_backup" || j.Source != "backup" {
		t.Errorf("Airflow's job: %+v, %v", j, err)
	}
}

func loadConnectionID(p *testenv.Project, name string) (string, error) {
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		return "", err
	}
	c, err := proj.Connection(name)
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// The demo's servers live in a TMPDIR of the test's own, so looking for
// leftovers sees only this test's.
func TestCLI_DemoRunsTheFailureDrill(t *testing.T) {
	testenv.SkipShort(t, "the demo's MariaDB primary and replica")
	t.Parallel()
	dir, tmp := t.TempDir(), t.TempDir()
	demo := func(args ...string) *exec.Cmd {
		cmd := exec.Command(acodeBin, append([]string{"demo"}, args...)...)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		return cmd
	}
	start := time.Now()
	out, err := demo("--rows", "3000", "--dir", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("acode demo: %v\n%s", err, out)
	}
	text := string(out)
	steps := []string{
		"== kill -9 the primary",
		"mysql_connectivity  source_mysql_acode         CRITICAL  [primary_db_down]",
		"TRANSITION primary_active -> backup_active: primary_db_down",
		"job 2 of connection_mysql_s3_acode_backup succeeded",
		"promoted origin=airbyte/database=bronze_acode_backup/farmarcas_si_analitico_diario/",
		"== the primary comes back",
		"TRANSITION backup_active -> primary_active: primary healthy for 3 consecutive checks",
		"job 3 of connection_mysql_s3_acode succeeded",
		"reconciled after the failback: ",
		"== drill done",
	}
	at := 0
	for _, s := range steps {
		i := strings.Index(text[at:], s)
		if i < 0 {
			t.Fatalf("the drill's transcript lacks %q after byte %d:\n%s", s, at, text)
		}
		at += i + len(s)
	}
	t.Logf("demo with the drill: %s", time.Since(start).Round(time.Millisecond))

	out, err = demo("--rows", "1000", "--dir", t.TempDir(), "--no-drill").CombinedOutput()
	if err != nil || strings.Contains(string(out), "kill -9") {
		t.Errorf("--no-drill: %v\n%s", err, out)
	}
	// The primary restarted by the drill is stopped too.
	if n, _ := exec.Command("pgrep", "-f", "mariadbd.*"+tmp).Output(); len(n) > 0 {
		t.Errorf("the demo left mariadbd running: pids %s", n)
	}
}
