package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const local = "connection_mysql_local_acode"

// ended records the results OnJobEnd receives.
type ended struct {
	mu      sync.Mutex
	results []*syncer.Result
}

func (e *ended) add(res *syncer.Result, _ error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.results = append(e.results, res)
}

func (e *ended) list() []*syncer.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*syncer.Result(nil), e.results...)
}

// newRunner seeds a database with rows, loads the example project pointed
// at it (extra sync settings appended), and returns a Runner over it that
// the test shuts down at its end.
func newRunner(t *testing.T, rows int, opts Options, syncSettings ...string) (*Runner, *state.Store, *ended) {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	ctx := context.Background()
	demotest.Fill(t, m, database, demo.Options{Rows: rows, Seed: 3, Days: 2})
	tp := testenv.NewProject(t, m, database, nil)
	tp.Settings(t, append([]string{"chunk_rows: 500"}, syncSettings...)...)
	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e := &ended{}
	opts.OnJobEnd = e.add
	r := New(&syncer.Syncer{Project: p, State: st, Log: log}, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return r, st, e
}

// slow makes a job last several seconds, so it can be caught running.
var slow = []string{"max_rows_per_second: 300", "max_parallel_reads: 1", "parallel_streams: 1"}

// waitEnd polls the store until job id has a terminal status.
func waitEnd(t *testing.T, st *state.Store, id int64) state.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := st.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status.Terminal() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s after 30s", id, j.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRunning polls until job id has read some rows, so a cancel lands mid-job.
func waitRunning(t *testing.T, r *Runner, id int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p, ok := r.Progress(id); ok {
			for _, s := range p.Streams() {
				if s.Rows() > 0 {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %d read no rows in 20s", id)
}

func TestRunner_TriggerReturnsPendingJobThenItSucceeds(t *testing.T) {
	t.Parallel()
	r, st, e := newRunner(t, 600, Options{})
	conn, _ := r.syncer.Project.Connection(local)

	job, err := r.Trigger(context.Background(), conn.ID) // Airflow passes the UUID
	if err != nil {
		t.Fatal(err)
	}
	if job.ID == 0 || job.Connection != local || job.Status.Terminal() {
		t.Fatalf("trigger returned %+v, want a live job of %s", job, local)
	}
	if stored, err := st.Job(context.Background(), job.ID); err != nil || stored.Status.Terminal() {
		t.Fatalf("job %d not live in the store when Trigger returned: %+v %v", job.ID, stored, err)
	}
	end := waitEnd(t, st, job.ID)
	if end.Status != state.JobSucceeded || end.Rows != 600+1000+360 {
		t.Errorf("job ended %s with %d rows (%s), want succeeded with 1960", end.Status, end.Rows, end.Error)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.list()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.list(); len(got) != 1 || got[0].JobID != job.ID || got[0].Status != "succeeded" {
		t.Errorf("OnJobEnd got %v, want job %d succeeded once", got, job.ID)
	}
}

func TestRunner_SecondTriggerWhileRunningNamesTheRunningJob(t *testing.T) {
	t.Parallel()
	r, st, _ := newRunner(t, 2000, Options{}, slow...)
	first, err := r.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Trigger(context.Background(), local)
	var busy *state.AlreadyRunningError
	if !errors.As(err, &busy) || busy.JobID != first.ID {
		t.Fatalf("second trigger: %v, want AlreadyRunningError naming job %d", err, first.ID)
	}
	if _, err := r.Cancel(context.Background(), first.ID); err != nil {
		t.Fatal(err)
	}
	waitEnd(t, st, first.ID)
	again, err := r.Trigger(context.Background(), local)
	if err != nil || again.ID == first.ID {
		t.Fatalf("trigger after the first job ended: %+v %v, want a new job", again, err)
	}
}

func TestRunner_CancelRecordsCancelled(t *testing.T) {
	t.Parallel()
	r, st, e := newRunner(t, 2000, Options{}, slow...)
	job, err := r.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, r, job.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := r.Cancel(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != state.JobCancelled || got.EndedAt == nil {
		t.Errorf("Cancel returned %s (ended %v), want cancelled and ended", got.Status, got.EndedAt)
	}
	if stored := waitEnd(t, st, job.ID); stored.Status != state.JobCancelled {
		t.Errorf("store says %s, want cancelled", stored.Status)
	}
	if len(r.Running()) != 0 {
		t.Errorf("still running after cancel: %v", r.Running())
	}
	// Cancelling again returns the ended job unchanged.
	if again, err := r.Cancel(ctx, job.ID); err != nil || again.Status != state.JobCancelled {
		t.Errorf("second cancel: %s %v, want the cancelled job", again.Status, err)
	}
	if res := e.list(); len(res) != 1 || res[0].Status != "cancelled" {
		t.Errorf("OnJobEnd got %v, want one cancelled result", res)
	}
}

func TestRunner_CancelRefusesJobOfAnotherProcessAndUnknownIDs(t *testing.T) {
	t.Parallel()
	r, st, _ := newRunner(t, 10, Options{})
	other, err := st.CreateJob(context.Background(), local, "primary", "elsewhere:1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Cancel(context.Background(), other.ID)
	var notOwned *NotOwnedError
	if !errors.As(err, &notOwned) || notOwned.Job.Owner != "elsewhere:1" {
		t.Errorf("cancel of another process's job: %v, want NotOwnedError naming its owner", err)
	}
	if j, _ := st.Job(context.Background(), other.ID); j.Status.Terminal() {
		t.Errorf("the other process's job was changed to %s", j.Status)
	}
	if _, err := r.Cancel(context.Background(), 999999); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("cancel of unknown job: %v, want ErrNotFound", err)
	}
	if _, err := r.Trigger(context.Background(), "nope"); !errors.Is(err, config.ErrUnknownConnection) {
		t.Errorf("trigger of unknown connection: %v, want ErrUnknownConnection", err)
	}
}

func TestRunner_ShutdownCancelsRunningJobsAfterGraceAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	r, st, _ := newRunner(t, 2000, Options{Grace: 300 * time.Millisecond}, slow...)
	job, err := r.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, r, job.ID)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("shutdown took %v, want at least the 300ms grace", d)
	}
	// Shutdown returned: the job's end is already recorded.
	if j, _ := st.Job(context.Background(), job.ID); j.Status != state.JobCancelled {
		t.Errorf("job after shutdown is %s, want cancelled", j.Status)
	}
	if _, err := r.Trigger(context.Background(), local); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("trigger after shutdown: %v, want ErrShuttingDown", err)
	}
}

func TestRunner_ShutdownLetsAJobFinishWithinGrace(t *testing.T) {
	t.Parallel()
	r, st, _ := newRunner(t, 300, Options{Grace: 20 * time.Second})
	job, err := r.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if j, _ := st.Job(context.Background(), job.ID); j.Status != state.JobSucceeded {
		t.Errorf("job after shutdown is %s (%s), want succeeded within the grace period", j.Status, j.Error)
	}
}

func TestRunner_CancelWhoseWaitRunsOutStillCancels(t *testing.T) {
	t.Parallel()
	r, st, _ := newRunner(t, 2000, Options{}, slow...)
	job, err := r.Trigger(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, r, job.ID)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller cannot wait at all
	got, err := r.Cancel(ctx, job.ID)
	if err != nil || got.ID != job.ID {
		t.Fatalf("Cancel with an expired context: %+v %v, want the job as it is now", got, err)
	}
	if end := waitEnd(t, st, job.ID); end.Status != state.JobCancelled {
		t.Errorf("job ended %s, want cancelled", end.Status)
	}
}
