package main

import (
	"context"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// haJobStreams are the two streams the HA job tests sync.
var haJobStreams = []string{demo.TableDiario, demo.TableProdutos}

// haJobCluster is three `acode serve` on one PostgreSQL state syncing a
// throttled MariaDB source (two streams) to the local destination.
type haJobCluster struct {
	p    *testenv.Project
	st   *state.Store
	reps []*serveProcess
}

func startHAJobCluster(t *testing.T, rowsPerSecond int) *haJobCluster {
	t.Helper()
	return startHAJobClusterWith(t, rowsPerSecond, nil, nil, nil)
}

// startHAJobClusterWith is startHAJobCluster with serve flags for each of
// the three replicas.
func startHAJobClusterWith(t *testing.T, rowsPerSecond int, flags ...[]string) *haJobCluster {
	t.Helper()
	p := seededProject(t, 40000, nil)
	p.Edit(t, "connections/connection_mysql_local_acode/configuration.yaml",
		"alias_name: farmarcas_si_analitico_diario_complemento\n          cursor_field: []\n          destination_sync_mode: append\n          primary_key:\n            - - idpk\n          selected: true",
		"alias_name: farmarcas_si_analitico_diario_complemento\n          cursor_field: []\n          destination_sync_mode: append\n          primary_key:\n            - - idpk\n          selected: false")
	dbURL := testenv.SharedPostgres(t).NewDatabase(t)
	settings := "state_db: " + dbURL + "\nsync:\n  chunk_rows: 500\n  file_size_mb: 1\n  max_parallel_reads: 1\n  parallel_streams: 1\n" +
		"  max_rows_per_second: " + strconv.Itoa(rowsPerSecond) + "\nserve:\n  job_attempts: 3\n  retry_delay: 1s\n"
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &haJobCluster{p: p, st: st}
	for i := range 3 {
		c.reps = append(c.reps, startServe(t, p, flags[i]...))
	}
	return c
}

// trigger starts the sync through replica 0's Airbyte API, waits until it
// has uploaded a part of a stream it has not committed yet, and returns the
// job id and the replica running it.
func (c *haJobCluster) trigger(t *testing.T) (int64, *serveProcess) {
	t.Helper()
	code, job := c.reps[0].post(t, "connections/sync", map[string]string{"connectionId": "connection_mysql_local_acode"})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	id := int64(jobField(job, "id").(float64))
	return id, c.workerWithAPart(t, id, haJobStreams)
}

// workerWithAPart waits until job id runs with an uploaded part of one of
// streams, and returns the replica running it.
func (c *haJobCluster) workerWithAPart(t *testing.T, id int64, streams []string) *serveProcess {
	t.Helper()
	var worker *serveProcess
	waitUntil(t, 150*time.Second, "an uploaded part of the running job", func() bool {
		j, err := c.st.Job(context.Background(), id)
		if err != nil || j.Status != state.JobRunning {
			return false
		}
		worker = c.owner(j)
		for _, s := range streams {
			if ps, _ := c.st.Parts(context.Background(), id, s); len(ps) >= 1 {
				return true
			}
		}
		return false
	})
	if worker == nil {
		t.Fatal("the job's owner is none of the replicas")
	}
	return worker
}

func (c *haJobCluster) owner(j state.Job) *serveProcess {
	for _, r := range c.reps {
		if strings.HasSuffix(j.Owner, ":"+strconv.Itoa(r.cmd.Process.Pid)) {
			return r
		}
	}
	return nil
}

// others are the replicas but w.
func (c *haJobCluster) others(w *serveProcess) []*serveProcess {
	var out []*serveProcess
	for _, r := range c.reps {
		if r != w {
			out = append(out, r)
		}
	}
	return out
}

// waitTakeover waits until a replica other than w owns job id and returns
// how long it took since from.
func (c *haJobCluster) waitTakeover(t *testing.T, id int64, w *serveProcess, from time.Time, limit time.Duration) time.Duration {
	t.Helper()
	var took time.Duration
	defer func() {
		if t.Failed() {
			j, err := c.st.Job(context.Background(), id)
			t.Logf("job %d in the state: %+v %v", id, j, err)
			for _, r := range c.reps {
				t.Logf("replica %s logged:\n%s", r.url, r.stderr)
			}
		}
	}()
	waitUntil(t, limit, "another replica to take the job over", func() bool {
		j, err := c.st.Job(context.Background(), id)
		if err == nil && c.owner(j) != nil && c.owner(j) != w {
			took = time.Since(from)
			return true
		}
		return false
	})
	return took
}

// waitSucceeded polls jobs/get on each of reps with id until it says succeeded.
func waitSucceeded(t *testing.T, id int64, reps []*serveProcess) {
	t.Helper()
	for _, r := range reps {
		deadline := time.Now().Add(3 * time.Minute)
		for status := ""; status != "succeeded"; {
			if time.Now().After(deadline) {
				t.Fatalf("job %d still %q after 3 min:\n%s", id, status, r.stderr)
			}
			time.Sleep(500 * time.Millisecond)
			_, got := r.post(t, "jobs/get", map[string]int64{"id": id})
			status, _ = jobField(got, "status").(string)
			if status == "failed" || status == "cancelled" {
				t.Fatalf("job %d %s:\n%s", id, status, r.stderr)
			}
		}
	}
}

// waitSucceededWhileMoving is waitSucceeded for job id of c, whose rest
// is read from the throttled source (max_rows_per_second per replica): on a
// loaded machine that rest may take longer than any fixed wait, so the wait
// lasts while the job moves (the rows of its uploaded parts change) and
// fails once it has not moved for stall (a job that hangs), or at once when
// it reads failed or cancelled.
func (c *haJobCluster) waitSucceededWhileMoving(t *testing.T, id int64, reps []*serveProcess, stall time.Duration) {
	t.Helper()
	uploaded := func() int64 {
		var n int64
		for _, s := range haJobStreams {
			ps, _ := c.st.Parts(context.Background(), id, s)
			for _, p := range ps {
				n += p.Rows
			}
		}
		return n
	}
	start, rows := time.Now(), uploaded()
	movedAt := start
	for _, r := range reps {
		for status := ""; status != "succeeded"; {
			if n := uploaded(); n != rows {
				rows, movedAt = n, time.Now()
			}
			if time.Since(movedAt) > stall {
				t.Fatalf("job %d still %q after %v, its uploaded rows (%d) unchanged for %v:\n%s",
					id, status, time.Since(start).Round(time.Second), rows, stall, r.stderr)
			}
			time.Sleep(500 * time.Millisecond)
			_, got := r.post(t, "jobs/get", map[string]int64{"id": id})
			status, _ = jobField(got, "status").(string)
			if status == "failed" || status == "cancelled" {
				t.Fatalf("job %d %s:\n%s", id, status, r.stderr)
			}
		}
	}
	t.Logf("job %d succeeded %v after the wait began", id, time.Since(start).Round(100*time.Millisecond))
}

// checkResumedAndExactlyOnce checks that a replica of reps logged resumed
// ranges for job id, that the first attempt was superseded, and that DuckDB
// reads every primary key of both streams exactly once.
func (c *haJobCluster) checkResumedAndExactlyOnce(t *testing.T, id int64, reps []*serveProcess) {
	t.Helper()
	job := `job_id=` + strconv.FormatInt(id, 10) + `\b`
	resumedLine := regexp.MustCompile(`ranges resumed from earlier attempts.*` + job + `|` + job + `.*ranges resumed from earlier attempts`)
	resumed := false
	for _, r := range reps {
		if resumedLine.MatchString(r.stderr.String()) {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("no replica that took job %d over logged resumed ranges", id)
	}
	atts, err := c.st.Attempts(context.Background(), id)
	if err != nil || len(atts) < 2 || !strings.Contains(atts[0].Error, "superseded") {
		t.Errorf("attempts of job %d: %+v %v; want the first superseded, then another", id, atts, err)
	}
	c.checkExactlyOnce(t)
}

// checkStagingKeysPerAttempt checks that every part job id recorded was
// staged under a key naming the attempt that wrote it, and that parts of
// the first owner's attempt and of the new owner's are both among them: a
// worker that lost the job and wakes writes to keys of its own attempt,
// which no record of the new owner names, so it cannot overwrite them.
func (c *haJobCluster) checkStagingKeysPerAttempt(t *testing.T, id int64) {
	t.Helper()
	attemptOf := regexp.MustCompile(`^range-\d+-a(\d+)(-c\d+)?\.parquet$`)
	byAttempt := map[string]int{}
	for _, s := range haJobStreams {
		parts, err := c.st.Parts(context.Background(), id, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if p.Key == "" {
				continue // a key gap: no object
			}
			m := attemptOf.FindStringSubmatch(path.Base(p.Key))
			if m == nil {
				t.Errorf("part of job %d staged at %s: the key names no attempt", id, p.Key)
				continue
			}
			byAttempt[m[1]]++
		}
	}
	if len(byAttempt) < 2 {
		atts, _ := c.st.Attempts(context.Background(), id)
		t.Errorf("job %d recorded parts by attempt %v, want the first owner's and the new owner's; attempts %+v", id, byAttempt, atts)
	}
}

// checkExactlyOnce checks that DuckDB reads every primary key of both
// streams exactly once in the destination.
func (c *haJobCluster) checkExactlyOnce(t *testing.T) {
	t.Helper()
	checkEveryKeyOnce(t, c.p, c.p.LocalRoot(), "*", haJobStreams, "")
}

// checkEveryKeyOnce checks that DuckDB reads each table's rows under root
// (a bucket's directory or a local destination; database names the
// bronze database, "*" for any) exactly once: as many rows as the source
// holds and as many distinct primary keys. where says which layout in
// the errors.
func checkEveryKeyOnce(t *testing.T, p *testenv.Project, root, database string, tables []string, where string) {
	t.Helper()
	db := p.DB.Root(t)
	duck := testenv.DuckDB(t)
	for _, table := range tables {
		var want int64
		if err := db.QueryRow("SELECT COUNT(*) FROM `" + p.Database + "`.`" + table + "`").Scan(&want); err != nil {
			t.Fatal(err)
		}
		glob := testenv.SQLString(filepath.Join(root, "origin=airbyte", "database="+database, table, "*", "*.parquet"))
		res := duck.Run(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS d FROM read_parquet("+glob+")")
		n, d := res[0].Rows[0]["n"], res[0].Rows[0]["d"]
		if want == 0 || n != strconv.FormatInt(want, 10) || d != n {
			t.Errorf("%s %s: DuckDB reads %v rows, %v distinct keys; the source holds %d", table, where, n, d, want)
		}
	}
}

// TestServeHA_KillTheWorkerMidRangeTheJobEndsUnderItsID: a sync triggered
// through one replica's Airbyte API; kill -9 of the replica running it
// mid-stream hands the job, under the id Airflow holds, to another
// replica, which resumes the ranges already uploaded; the job ends
// succeeded through both surviving replicas' jobs/get, and DuckDB reads
// every primary key exactly once.
func TestServeHA_KillTheWorkerMidRangeTheJobEndsUnderItsID(t *testing.T) {
	t.Parallel()
	c := startHAJobCluster(t, 4000)
	id, worker := c.trigger(t)
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-worker.exited
	took := c.waitTakeover(t, id, worker, killedAt, 60*time.Second)
	t.Logf("job %d taken over %v after kill -9 of its worker", id, took.Round(100*time.Millisecond))
	rest := c.others(worker)
	waitSucceeded(t, id, rest)
	c.checkResumedAndExactlyOnce(t, id, rest)
}

// TestServeHA_AStalledWorkerThatWakesCannotRecordOrCommit: the replica
// running a job is stopped (SIGSTOP) past the job's lease; another replica
// takes the job over; the stalled one, woken, notices it lost the job and
// records nothing, and the job ends succeeded with every key once.
func TestServeHA_AStalledWorkerThatWakesCannotRecordOrCommit(t *testing.T) {
	t.Parallel()
	c := startHAJobCluster(t, 1500)
	id, worker := c.trigger(t)
	if err := worker.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	took := c.waitTakeover(t, id, worker, stoppedAt, 90*time.Second)
	t.Logf("job %d taken over %v after SIGSTOP of its worker (lease 40 s)", id, took.Round(100*time.Millisecond))
	if took < 30*time.Second {
		t.Errorf("a stalled but live worker lost its job after %v, before its lease ran out", took)
	}
	if err := worker.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 40*time.Second, "the woken worker to see it lost the job", func() bool {
		return strings.Contains(worker.stderr.String(), "taken over by another process")
	})
	c.waitSucceededWhileMoving(t, id, c.reps, 2*time.Minute)
	c.checkResumedAndExactlyOnce(t, id, c.others(worker))
	c.checkStagingKeysPerAttempt(t, id)
	j, err := c.st.Job(context.Background(), id)
	if err != nil || c.owner(j) == worker {
		t.Errorf("job %d ends owned by the stalled worker: %+v %v", id, j, err)
	}
	for _, l := range strings.Split(worker.stderr.String(), "\n") {
		if strings.Contains(l, "taken over") || strings.Contains(l, "lost") {
			t.Logf("stalled worker: %s", l)
		}
	}
	// It stopped without ending the job it lost (the taker ended it).
	ended := regexp.MustCompile(`(?m)^.*"?job ended"?.*job_id=` + strconv.FormatInt(id, 10) + `\b.*$`)
	if m := ended.FindString(worker.stderr.String()); m != "" {
		t.Errorf("the stalled worker ended the job it had lost: %s", m)
	}
}

// TestServeHA_CancelThroughAReplicaThatDoesNotRunTheJob: Airflow's
// jobs/cancel reaches a replica other than the one running the job; the job
// reads cancelled at once through every replica, and the running replica
// stops it (its heartbeat sees the cancel) without committing.
func TestServeHA_CancelThroughAReplicaThatDoesNotRunTheJob(t *testing.T) {
	t.Parallel()
	c := startHAJobCluster(t, 1500)
	id, worker := c.trigger(t)
	other := c.others(worker)[0]
	code, got := other.post(t, "jobs/cancel", map[string]int64{"id": id})
	if status, _ := jobField(got, "status").(string); code != http.StatusOK || status != "cancelled" {
		t.Fatalf("jobs/cancel through a replica that does not run job %d: %d %v", id, code, got)
	}
	for _, r := range c.reps {
		_, got := r.post(t, "jobs/get", map[string]int64{"id": id})
		if status, _ := jobField(got, "status").(string); status != "cancelled" {
			t.Errorf("jobs/get of job %d on %s: %q, want cancelled", id, r.url, status)
		}
	}
	// Its next heartbeat or its next record (both see the job ended) stops it.
	waitUntil(t, 40*time.Second, "the running replica to end its run as cancelled", func() bool {
		return regexp.MustCompile(`job ended.*job_id=` + strconv.FormatInt(id, 10) + `\b.*status=cancelled`).MatchString(worker.stderr.String())
	})
	j, err := c.st.Job(context.Background(), id)
	if err != nil || j.Status != state.JobCancelled || !strings.Contains(j.Error, "cancelled through") || j.EndedAt == nil {
		t.Fatalf("job %d in the state: %+v %v, want cancelled through the other replica", id, j, err)
	}
	for _, table := range haJobStreams {
		cms, err := c.st.Commits(context.Background(), "connection_mysql_local_acode", table, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range cms {
			if cm.JobID == id && cm.CommittedAt.After(*j.EndedAt) {
				t.Errorf("stream %s committed by job %d at %v, after its cancel was recorded at %v", table, id, cm.CommittedAt, *j.EndedAt)
			}
		}
	}
}
