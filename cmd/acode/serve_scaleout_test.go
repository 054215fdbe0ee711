package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

const scaleOutConnection = "connection_mysql_s3_acode"

// scaleOutCluster is three `acode serve` on one PostgreSQL state reading a
// MariaDB source into versitygw, with a cluster-wide budget of two reads.
type scaleOutCluster struct {
	haJobCluster
	s3 *testenv.S3Server
}

func startScaleOutCluster(t *testing.T, rows, rowsPerSecond int) *scaleOutCluster {
	t.Helper()
	s3 := testenv.StartS3(t)
	p := seededProject(t, rows, s3)
	dbURL := testenv.SharedPostgres(t).NewDatabase(t)
	settings := "state_db: " + dbURL + "\nsync:\n  chunk_rows: 1000\n  file_size_mb: 1\n  max_parallel_reads: 2\n  parallel_streams: 1\n" +
		"  max_rows_per_second: " + strconv.Itoa(rowsPerSecond) + "\nserve:\n  job_attempts: 3\n  retry_delay: 1s\n"
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &scaleOutCluster{haJobCluster: haJobCluster{p: p, st: st}, s3: s3}
	for range 3 {
		c.reps = append(c.reps, startServe(t, p))
	}
	return c
}

// start triggers the sync through replica 0's Airbyte API.
func (c *scaleOutCluster) start(t *testing.T) int64 {
	t.Helper()
	code, job := c.reps[0].post(t, "connections/sync", map[string]string{"connectionId": scaleOutConnection})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	return int64(jobField(job, "id").(float64))
}

// readers returns, per replica, how many ranges of the job's streams it
// read, and fails unless every range task is done.
func (c *scaleOutCluster) readers(t *testing.T, id int64) map[*serveProcess]int {
	t.Helper()
	out := map[*serveProcess]int{}
	for _, s := range c.streams() {
		tasks, err := c.st.RangeTasks(context.Background(), id, s)
		if err != nil || len(tasks) == 0 {
			t.Fatalf("range tasks of job %d stream %s: %d %v", id, s, len(tasks), err)
		}
		for _, task := range tasks {
			if task.Status != state.RangeDone {
				t.Errorf("stream %s range %d: %s after the job succeeded", s, task.Index, task.Status)
			}
			out[c.owner(state.Job{Owner: task.Owner})]++
		}
	}
	return out
}

func (c *scaleOutCluster) streams() []string {
	return []string{"farmarcas_si_analitico_diario", "farmarcas_si_analitico_diario_produtos", "farmarcas_si_analitico_diario_complemento"}
}

// checkExactlyOnce checks with DuckDB that the bucket holds every primary
// key of every stream exactly once, and that each stream was committed by
// the job once (one manifest, one commit record).
func (c *scaleOutCluster) checkExactlyOnce(t *testing.T, id int64) {
	t.Helper()
	checkEveryKeyOnce(t, c.p, filepath.Join(c.s3.Dir, c.p.Bucket), "*", c.streams(), "")
	for _, table := range c.streams() {
		manifests, _ := filepath.Glob(filepath.Join(c.s3.Dir, c.p.Bucket, "origin=airbyte", "database=*", table, "*", layout.ManifestName))
		cms, err := c.st.Commits(context.Background(), scaleOutConnection, table, time.Time{})
		mine := 0
		for _, cm := range cms {
			if cm.JobID == id {
				mine++
			}
		}
		if err != nil || mine != 1 || len(manifests) != 1 {
			t.Errorf("%s: %d commits of job %d (%v), manifests %v; want one each", table, mine, id, err, manifests)
		}
	}
}

// readWatch keeps the most range reads seen at once on the source, two
// ways: MariaDB's processlist (statements on the project's database; a
// range whose rows fit in the socket buffers leaves it before the worker
// has encoded them, so this sees fewer) and the state's claims counted as
// reads of the source's budget.
type readWatch struct {
	mu          sync.Mutex
	server, est int
	stop        func()
}

func watchReads(t *testing.T, c *scaleOutCluster, id func() int64) *readWatch {
	t.Helper()
	db := c.p.DB.Root(t)
	w := &readWatch{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	pattern := "SELECT % FROM `" + c.p.Database + "`.%"
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var n int
			err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
				WHERE COMMAND IN ('Query','Execute') AND ID <> CONNECTION_ID() AND INFO LIKE ?`, pattern).Scan(&n)
			claimed := 0
			if job := id(); job > 0 {
				for _, s := range c.streams() {
					tasks, _ := c.st.RangeTasks(ctx, job, s)
					for _, tk := range tasks {
						if tk.Reading {
							claimed++
						}
					}
				}
			}
			w.mu.Lock()
			if err == nil {
				w.server = max(w.server, n)
			}
			w.est = max(w.est, claimed)
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	w.stop = func() { cancel(); <-done }
	t.Cleanup(w.stop)
	return w
}

// most returns the most reads seen at once by MariaDB and by the state.
func (w *readWatch) most() (server, claims int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.server, w.est
}

// TestServeScaleOut_RangesSpreadOverReplicasWithinTheSourceBudget: a sync
// through one replica's Airbyte API; its ranges are read by more than one
// replica, MariaDB never runs more than the budget (max_parallel_reads: 2)
// of range reads at once though three replicas run two workers each, each
// stream is committed once, and DuckDB reads every key exactly once.
func TestServeScaleOut_RangesSpreadOverReplicasWithinTheSourceBudget(t *testing.T) {
	t.Parallel()
	c := startScaleOutCluster(t, 30000, 3000)
	var job atomic.Int64
	watch := watchReads(t, c, job.Load)
	id := c.start(t)
	job.Store(id)
	waitSucceeded(t, id, c.reps)
	watch.stop()
	by := c.readers(t, id)
	server, claims := watch.most()
	counts := make([]int, len(c.reps))
	for i, r := range c.reps {
		counts[i] = by[r]
	}
	t.Logf("ranges of job %d by replica: %v; most range reads at once: %d on MariaDB's processlist, %d in the state", id, counts, server, claims)
	if len(by) < 2 || by[nil] > 0 {
		t.Errorf("ranges read by %d replicas (%d by none of them), want more than one", len(by), by[nil])
	}
	if server > 2 || claims != 2 {
		t.Errorf("most range reads at once: %d on MariaDB, %d in the state; want at most 2 and 2 (budget 2, six workers)", server, claims)
	}
	c.checkExactlyOnce(t, id)
}

// TestServeScaleOut_KillARangeWorkerMidRangeItsRangeIsReadAgain: kill -9
// of a replica while it reads a range of a job another replica owns; the
// range is claimed again by a surviving replica, the job ends succeeded
// under its id, committed once, every key exactly once.
func TestServeScaleOut_KillARangeWorkerMidRangeItsRangeIsReadAgain(t *testing.T) {
	t.Parallel()
	c := startScaleOutCluster(t, 30000, 2000)
	id, victim, task := c.waitForeignClaim(t)
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	rest := c.others(victim)
	waitSucceeded(t, id, rest)
	tasks, err := c.st.RangeTasks(context.Background(), id, task.Stream)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.Index == task.Index {
			t.Logf("range %d of %s: claimed by the killed replica (claim %d), done by %s (claim %d)", tk.Index, tk.Stream, task.Claim, tk.Owner, tk.Claim)
			if tk.Status != state.RangeDone || tk.Claim <= task.Claim || c.owner(state.Job{Owner: tk.Owner}) == victim {
				t.Errorf("range %d after the kill: %+v, want done by a survivor under a newer claim than %d", tk.Index, tk, task.Claim)
			}
		}
	}
	c.checkExactlyOnce(t, id)
}

// TestServeScaleOut_AStalledRangeWorkerCannotRecordItsRange: SIGSTOP of a
// replica while it reads a range of a job another replica owns; after the
// claim's lease (30 s) a survivor claims the range again; the stalled
// replica, woken, logs that it lost the claim, and the job ends succeeded
// with the range done by the survivor and every key once.
func TestServeScaleOut_AStalledRangeWorkerCannotRecordItsRange(t *testing.T) {
	t.Parallel()
	c := startScaleOutCluster(t, 30000, 1500)
	id, victim, task := c.waitForeignClaim(t)
	if err := victim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	var heir state.RangeTask
	waitUntil(t, 90*time.Second, "a survivor to claim the stalled worker's range", func() bool {
		tasks, _ := c.st.RangeTasks(context.Background(), id, task.Stream)
		for _, tk := range tasks {
			if tk.Index == task.Index && tk.Claim > task.Claim {
				heir = tk
				return true
			}
		}
		return false
	})
	took := time.Since(stopped)
	t.Logf("range %d of %s claimed again %v after SIGSTOP of its worker (lease 30 s)", task.Index, task.Stream, took.Round(100*time.Millisecond))
	if took < 20*time.Second || c.owner(state.Job{Owner: heir.Owner}) == victim {
		t.Errorf("range reclaimed after %v by %s; want a survivor, after the lease", took, heir.Owner)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitSucceeded(t, id, c.reps)
	waitUntil(t, 40*time.Second, "the woken worker to see it lost its claim", func() bool {
		return strings.Contains(victim.stderr.String(), "range claim lost")
	})
	tasks, err := c.st.RangeTasks(context.Background(), id, task.Stream)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.Index == task.Index && (tk.Status != state.RangeDone || c.owner(state.Job{Owner: tk.Owner}) == victim) {
			t.Errorf("range %d: %+v, want done by a survivor", tk.Index, tk)
		}
	}
	c.checkExactlyOnce(t, id)
}

// waitForeignClaim starts a sync and waits until a replica that does not
// own the job reads one of its ranges; it returns the job, the replica and
// its claim. Range claims are first come, first served: on a loaded
// machine the owner's own workers can take the whole read budget until the
// job ends, so a job that succeeds with no foreign read is followed by
// another sync (logged), until the deadline; one that fails fails the test.
func (c *scaleOutCluster) waitForeignClaim(t *testing.T) (int64, *serveProcess, state.RangeTask) {
	t.Helper()
	var (
		victim *serveProcess
		task   state.RangeTask
	)
	id := c.start(t)
	waitUntil(t, 150*time.Second, "a replica that does not own the job reading one of its ranges", func() bool {
		j, err := c.st.Job(context.Background(), id)
		if err != nil {
			return false
		}
		switch {
		case j.Status == state.JobSucceeded:
			t.Logf("job %d succeeded before another replica than its owner read a range: syncing again", id)
			id = c.start(t)
			return false
		case j.Status.Terminal():
			t.Fatalf("job %d %s before another replica than its owner read a range", id, j.Status)
		}
		if j.Status != state.JobRunning {
			return false
		}
		owner := c.owner(j)
		for _, s := range c.streams() {
			tasks, _ := c.st.RangeTasks(context.Background(), id, s)
			for _, tk := range tasks {
				if r := c.owner(state.Job{Owner: tk.Owner}); tk.Reading && r != nil && r != owner {
					victim, task = r, tk
					return true
				}
			}
		}
		return false
	})
	return id, victim, task
}
