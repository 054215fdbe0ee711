package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

const (
	pairPrimary = "connection_mysql_s3_acode"
	pairBackup  = "connection_mysql_s3_acode_backup"
)

// pairSettings throttle the sync so that a kill lands mid-job, and keep
// the health probe of a dead primary short.
const pairSettings = `state_db: .acode/state.db
sync:
  chunk_rows: 500
  file_size_mb: 1
  connect_timeout: 2s
  read_timeout: 10s
  max_rows_per_second: 4000
health:
  connect_timeout: 1s
  query_timeout: 5s
failover:
  backoff_jitter: 0
jobs:
  retries: 1
  retry_delay: 1m
`

// pairEnv is acode serve's API over a failover pair: a real MariaDB
// primary and its binlog replica, both connections writing to versitygw,
// jobs routed through the failover orchestration as `acode serve` does.
type pairEnv struct {
	*env
	primary *testenv.MariaDB
	replica *testenv.MariaDB
}

func newPairEnv(t *testing.T) *pairEnv {
	t.Helper()
	ctx := context.Background()
	primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	replica := testenv.StartReplica(t, primary)
	s3 := testenv.StartS3(t)
	database := "acode_" + strconv.Itoa(primary.Port)
	counts := demotest.Fill(t, primary, database, demo.Options{Rows: 6000, Seed: 13})
	tp := testenv.NewProject(t, primary, database, s3)
	tp.Env["FARMARCAS_AWS_SECRET_ACCESS_KEY"] = s3.SecretKey
	primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	tp.PointBackup(t, replica)
	if err := os.WriteFile(filepath.Join(tp.Dir, config.SettingsFile), []byte(pairSettings), 0o644); err != nil {
		t.Fatal(err)
	}
	replica.WaitReplicaCaughtUp(t, primary)

	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	orch := &pairsync.Orchestrator{Project: p, State: st, Log: log}
	// One health round with both servers up, as serve's loop does first:
	// the machine has measured the replica's lag.
	if _, err := orch.HealthRound(ctx); err != nil {
		t.Fatal(err)
	}
	runner := jobs.New(&syncer.Syncer{Project: p, State: st, Log: log}, jobs.Options{Run: orch.RunJob})
	e := serve(t, p, st, runner, nil, log, counts)
	return &pairEnv{env: e, primary: primary, replica: replica}
}

// killMidJob kills the primary once job id has read rows, well before it
// can end.
func (e *pairEnv) killMidJob(id int64) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rows int64
		if p, ok := e.runner.Progress(id); ok {
			for _, s := range p.Streams() {
				rows += s.Rows()
			}
		}
		if rows >= 1000 {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %d read %d rows in 30s", id, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.primary.Kill(e.t)
}

// acodeJob is GET /api/acode/jobs/{id} as a person reads it.
type acodeJob struct {
	ID          int64  `json:"id"`
	Connection  string `json:"connection"`
	Source      string `json:"source"`
	Status      string `json:"status"`
	Rows        int64  `json:"rows"`
	Error       string `json:"error"`
	ContinuedBy int64  `json:"continued_by"`
	Continues   int64  `json:"continues"`
	Chain       *struct {
		FirstJob int64   `json:"first_job"`
		Jobs     []int64 `json:"jobs"`
		Status   string  `json:"status"`
		Rows     int64   `json:"rows"`
	} `json:"chain"`
	Attempts []struct {
		Status string `json:"status"`
	} `json:"attempts"`
}

func (e *pairEnv) acodeJob(id int64) acodeJob {
	e.t.Helper()
	r := e.doJSON(http.MethodGet, fmt.Sprintf("/api/acode/jobs/%d", id), nil, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /api/acode/jobs/%d: %d %s", id, r.status, r.body)
	}
	var j acodeJob
	r.json(e.t, &j)
	return j
}

// checkBothSides asserts that acode's own API shows what really ran: the
// primary's job failed and was continued by the backup's job, which
// succeeded with every row; and returns the backup job's id.
func (e *pairEnv) checkBothSides(first int64) int64 {
	e.t.Helper()
	p := e.acodeJob(first)
	if p.Connection != pairPrimary || p.Source != "primary" || p.Status != "failed" || p.Error == "" || p.ContinuedBy == 0 {
		e.t.Fatalf("the primary's job as acode shows it: %+v; want failed with its error and continued_by", p)
	}
	b := e.acodeJob(p.ContinuedBy)
	if b.Connection != pairBackup || b.Source != "backup" || b.Status != "succeeded" || b.Rows != e.rows || b.Continues != first {
		e.t.Errorf("the backup's job as acode shows it: %+v; want succeeded with %d rows, continuing job %d", b, e.rows, first)
	}
	for _, j := range []acodeJob{p, b} {
		if j.Chain == nil || j.Chain.FirstJob != first || len(j.Chain.Jobs) != 2 || j.Chain.Jobs[1] != b.ID ||
			j.Chain.Status != "succeeded" || j.Chain.Rows != e.rows {
			e.t.Errorf("job %d's chain: %+v; want jobs [%d %d] succeeded with %d rows", j.ID, j.Chain, first, b.ID, e.rows)
		}
	}
	// `acode jobs` reads the same records: each job as it ran.
	list, err := e.state.ListJobs(context.Background(), state.JobFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != b.ID || list[1].ID != first || list[1].Status != state.JobFailed || list[1].ContinuedBy != b.ID {
		e.t.Errorf("jobs in the store: %+v", list)
	}
	return b.ID
}

func TestAirflowProvider3_PrimaryKilledMidJobPollsOneJobToSucceeded(t *testing.T) {
	t.Parallel()
	e := newPairEnv(t)
	af := airflowV3{e: e.env, user: apiUser, pass: apiPass}
	job, r := af.submit(e.project.Connections[pairPrimary].ID)
	if r.status != http.StatusOK {
		t.Fatalf("connections/sync: %d %s", r.status, r.body)
	}
	e.killMidJob(job.Job.ID)
	// AirbyteJobSensor: any failed or cancelled read ends the task.
	done, err := af.waitForJob(job.Job.ID)
	if err != nil {
		t.Fatalf("the sensor polling job %d read %v: %+v", job.Job.ID, err, done)
	}
	if done.Job.ID != job.Job.ID || done.Job.ConfigID != e.project.Connections[pairPrimary].ID {
		t.Errorf("polled job %+v, want id %d of the primary's connection", done.Job, job.Job.ID)
	}
	// Attempts: the primary's failed one, then the backup's, which synced
	// every row.
	n := len(done.Attempts)
	if n < 2 || done.Attempts[0].Attempt.Status != "failed" || done.Attempts[n-1].Attempt.Status != "succeeded" ||
		done.Attempts[n-1].Attempt.RecordsSynced != e.rows || done.Attempts[n-1].Attempt.ID != int64(n-1) {
		t.Errorf("attempts %+v, want the primary's failed attempt, then the backup's succeeded one with %d records", done.Attempts, e.rows)
	}
	backup := e.checkBothSides(job.Job.ID)
	// Polling the backup's own id reads that job alone.
	if own, _ := af.getJob(backup); own.Job.ID != backup || own.Job.Status != "succeeded" || own.Job.ConfigID != e.project.Connections[pairBackup].ID {
		t.Errorf("jobs/get of the backup's job: %+v", own.Job)
	}
	e.assertNoSecrets()
}

func TestAirflowProvider4_PrimaryKilledMidJobPollsOneJobToSucceeded(t *testing.T) {
	t.Parallel()
	e := newPairEnv(t)
	af := &airflowV4{e: e.env, prefix: "/v1"}
	if r := af.login(apiUser, apiPass); r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	job, r := af.submit(pairPrimary)
	if r.status != http.StatusOK {
		t.Fatalf("POST /v1/jobs: %d %s", r.status, r.body)
	}
	e.killMidJob(job.JobID)
	done, err := af.waitForJob(job.JobID)
	if err != nil {
		t.Fatalf("polling job %d read %v: %+v", job.JobID, err, done)
	}
	if done.JobID != job.JobID || done.RowsSynced != e.rows || done.BytesSynced <= 0 ||
		done.ConnectionID != e.project.Connections[pairPrimary].ID || done.StartTime != job.StartTime {
		t.Errorf("polled job %+v, want job %d started %s, succeeded with %d rows", done, job.JobID, job.StartTime, e.rows)
	}
	e.checkBothSides(job.JobID)
	e.assertNoSecrets()
}
