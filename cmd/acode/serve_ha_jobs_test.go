package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestServeHA_KillTheWorkerMidRangeTheJobEndsUnderItsID runs three `acode
// serve` on one PostgreSQL state with a throttled MariaDB source: a sync
// triggered through one replica's Airbyte API runs on that replica; kill -9
// of it mid-stream hands the job, under the id Airflow holds, to another
// replica, which resumes the ranges already uploaded; the job ends
// succeeded through every replica's jobs/get, and DuckDB reads every
// primary key exactly once.
func TestServeHA_KillTheWorkerMidRangeTheJobEndsUnderItsID(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 40000, nil)
	pg := testenv.SharedPostgres(t)
	dbURL := pg.NewDatabase(t)
	settings := "state_db: " + dbURL + "\nsync:\n  chunk_rows: 500\n  file_size_mb: 1\n  max_parallel_reads: 1\n  parallel_streams: 1\n  max_rows_per_second: 4000\n" +
		"serve:\n  job_attempts: 3\n  retry_delay: 1s\n"
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var reps []*serveProcess
	for range 3 {
		reps = append(reps, startServe(t, p))
	}
	code, job := reps[0].post(t, "connections/sync", map[string]string{"connectionId": "connection_mysql_local_acode"})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	id := int64(jobField(job, "id").(float64))

	// Wait until the job has uploaded some ranges of a stream, then kill -9
	// the replica that runs it while it reads on.
	var worker *serveProcess
	waitUntil(t, 150*time.Second, "uploaded parts of the running job", func() bool {
		j, err := st.Job(context.Background(), id)
		if err != nil || j.Status != state.JobRunning {
			return false
		}
		for _, r := range reps {
			if strings.HasSuffix(j.Owner, ":"+strconv.Itoa(r.cmd.Process.Pid)) {
				worker = r
			}
		}
		for _, s := range []string{demo.TableDiario, demo.TableProdutos, demo.TableComplemento} {
			if ps, _ := st.Parts(context.Background(), id, s); len(ps) >= 1 {
				return true
			}
		}
		return false
	})
	if worker == nil {
		t.Fatal("the job's owner is none of the replicas")
	}
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-worker.exited
	var rest []*serveProcess
	for _, r := range reps {
		if r != worker {
			rest = append(rest, r)
		}
	}
	var restartedIn time.Duration
	waitUntil(t, 60*time.Second, "another replica to take the job over", func() bool {
		j, err := st.Job(context.Background(), id)
		if err == nil && j.Owner != "" && !strings.HasSuffix(j.Owner, ":"+strconv.Itoa(worker.cmd.Process.Pid)) {
			restartedIn = time.Since(killedAt)
			return true
		}
		return false
	})
	t.Logf("job %d taken over %v after kill -9 of its worker", id, restartedIn.Round(100*time.Millisecond))
	for _, r := range rest {
		deadline := time.Now().Add(3 * time.Minute)
		for status := ""; status != "succeeded"; {
			if time.Now().After(deadline) {
				t.Fatalf("job %d still %q after 3 min:\n%s", id, status, r.stderr)
			}
			time.Sleep(500 * time.Millisecond)
			_, got := r.post(t, "jobs/get", map[string]int64{"id": id})
			status, _ = jobField(got, "status").(string)
			if status == "failed" || status == "cancelled" {
				t.Fatalf("job %d %s:\n%s\n%s", id, status, rest[0].stderr, rest[1].stderr)
			}
		}
	}
	// The taker resumed the uploaded ranges instead of reading them again.
	resumedLine := regexp.MustCompile(`ranges resumed from earlier attempts.*job_id=` + strconv.FormatInt(id, 10) + `\b|job_id=` + strconv.FormatInt(id, 10) + `\b.*ranges resumed from earlier attempts`)
	resumed := false
	for _, r := range rest {
		if resumedLine.MatchString(r.stderr.String()) {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("no surviving replica logged ranges resumed for job %d:\n%s\n%s", id, rest[0].stderr, rest[1].stderr)
	}
	atts, err := st.Attempts(context.Background(), id)
	if err != nil || len(atts) < 2 || !strings.Contains(atts[0].Error, "superseded") {
		t.Errorf("attempts of job %d: %+v %v; want the killed one superseded, then another", id, atts, err)
	}

	// Every primary key exactly once, as many as the source holds.
	root := p.DB.Root(t)
	duck := testenv.DuckDB(t)
	for _, table := range []string{demo.TableDiario, demo.TableProdutos, demo.TableComplemento} {
		var want int64
		if err := root.QueryRow("SELECT COUNT(*) FROM `" + p.Database + "`.`" + table + "`").Scan(&want); err != nil {
			t.Fatal(err)
		}
		glob := testenv.SQLString(filepath.Join(p.LocalRoot(), "origin=airbyte", "database=*", table, "*", "*.parquet"))
		res := duck.Run(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS d FROM read_parquet("+glob+")")
		n, d := res[0].Rows[0]["n"], res[0].Rows[0]["d"]
		if n != strconv.FormatInt(want, 10) || d != n {
			t.Errorf("%s: DuckDB reads %v rows, %v distinct keys; the source holds %d", table, n, d, want)
		}
	}
}
