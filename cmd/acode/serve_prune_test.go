package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// pruneStreams are the seeded project's streams.
var pruneStreams = []string{"farmarcas_si_analitico_diario", "farmarcas_si_analitico_diario_produtos", "farmarcas_si_analitico_diario_complemento"}

// jobRows counts a job's range tasks and parts over pruneStreams.
func jobRows(t *testing.T, st *state.Store, id int64, streams ...string) (tasks, parts int) {
	t.Helper()
	ctx := context.Background()
	for _, s := range streams {
		ts, err := st.RangeTasks(ctx, id, s)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := st.Parts(ctx, id, s)
		if err != nil {
			t.Fatal(err)
		}
		tasks, parts = tasks+len(ts), parts+len(ps)
	}
	return tasks, parts
}

// liveElsewhere records a job running on another replica ("elsewhere:1",
// heartbeating until the test ends) with one range done and its part:
// what a takeover would resume from.
func liveElsewhere(t *testing.T, st *state.Store) state.Job {
	t.Helper()
	ctx := context.Background()
	const owner = "elsewhere:1"
	j, err := st.CreateJob(ctx, "connection_elsewhere", "primary", owner)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.StartAttemptAs(ctx, j.ID, owner)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.QueueRanges(ctx, j.ID, "s", "source_elsewhere", 1, a.Number, []int{0}); err != nil {
		t.Fatal(err)
	}
	task, ok, err := st.ClaimRange(ctx, owner, time.Hour)
	if err != nil || !ok || task.JobID != j.ID {
		t.Fatalf("ClaimRange: %+v %v %v, want the range of job %d", task, ok, err, j.ID)
	}
	if err := st.RecordRangePart(ctx, task, state.Part{JobID: j.ID, Stream: "s", Key: "s/001.parquet", Ranges: []int{0}, Attempt: a.Number}); err != nil {
		t.Fatal(err)
	}
	hbCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-tick.C:
				_ = st.HeartbeatAs(hbCtx, j.ID, owner)
			}
		}
	}()
	t.Cleanup(func() { stop(); <-done })
	return j
}

// TestServe_AFinishedSyncsRangeTasksAndPartsArePrunedALiveJobKeepsItsOwn:
// one `acode serve` on a PostgreSQL state (ranges as range tasks) with
// jobs.state_retention 5s syncs MariaDB into versitygw; once the job
// succeeded its range tasks and parts are there, then the leader's sweep
// deletes them, while a job running on another replica keeps its range
// task and part.
func TestServe_AFinishedSyncsRangeTasksAndPartsArePrunedALiveJobKeepsItsOwn(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 5000, s3)
	dbURL := testenv.SharedPostgres(t).NewDatabase(t)
	settings := "state_db: " + dbURL + "\nsync:\n  chunk_rows: 1000\n  max_parallel_reads: 2\n  parallel_streams: 1\n" +
		"jobs:\n  state_retention: 5s\n"
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	live := liveElsewhere(t, st)
	sp := startServe(t, p)

	code, job := sp.post(t, "connections/sync", map[string]string{"connectionId": scaleOutConnection})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	id := int64(jobField(job, "id").(float64))
	waitSucceeded(t, id, []*serveProcess{sp})
	tasks, parts := jobRows(t, st, id, pruneStreams...)
	t.Logf("job %d succeeded with %d range tasks and %d parts", id, tasks, parts)
	if tasks == 0 || parts == 0 {
		t.Fatalf("job %d: %d range tasks, %d parts right after it succeeded; want its rows still there (retention 5s)", id, tasks, parts)
	}
	waitUntil(t, time.Minute, "the finished job's range tasks and parts to be pruned", func() bool {
		tasks, parts := jobRows(t, st, id, pruneStreams...)
		return tasks == 0 && parts == 0
	})
	if tasks, parts := jobRows(t, st, live.ID, "s"); tasks != 1 || parts != 1 {
		t.Errorf("job %d running elsewhere keeps %d range tasks and %d parts after the sweep, want 1 and 1", live.ID, tasks, parts)
	}
	if j, err := st.Job(context.Background(), id); err != nil || j.Status != state.JobSucceeded {
		t.Errorf("Job(%d) after the sweep = %+v, %v; want the succeeded job's record kept", id, j, err)
	}
	// /metrics: the synced source idles at its configured budget; the job
	// elsewhere's source, with nothing queued or claimed, has no series.
	code, body := sp.get(t, "/metrics", false)
	for _, want := range []string{
		`acode_source_read_budget{source="source_mysql_acode"} 2`,
		`acode_source_reads{source="source_mysql_acode"} 0`,
		`acode_range_tasks{source="source_mysql_acode",state="queued"} 0`,
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}
	if strings.Contains(body, `source="source_elsewhere"`) {
		t.Error("/metrics has series of a source with no range task queued, claimed or failed and no connection")
	}
}

// TestCLI_ASyncPrunesTheRowsOfJobsEndedStateRetentionAgo: `acode sync`
// (SQLite state, no serve) ends by deleting the parts and plans of the
// jobs that ended jobs.state_retention ago: the second sync removes the
// first job's, and keeps its own.
func TestCLI_ASyncPrunesTheRowsOfJobsEndedStateRetentionAgo(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 3000, s3)
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte("jobs:\n  state_retention: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	syncJob := func() int64 {
		out, stderr, code := acode(t, p, "sync", "--json", scaleOutConnection)
		var r syncJSON
		if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Status != "succeeded" {
			t.Fatalf("sync: exit %d %v\n%s\n%s", code, err, out, stderr)
		}
		return r.JobID
	}
	first := syncJob()
	st, err := state.Open(context.Background(), filepath.Join(p.Dir, ".acode", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, parts := jobRows(t, st, first, pruneStreams...); parts == 0 {
		t.Fatalf("job %d has no parts right after it succeeded", first)
	}
	waitUntil(t, time.Minute, "the first job to have ended more than state_retention ago", func() bool {
		j, err := st.Job(context.Background(), first)
		return err == nil && j.EndedAt != nil && time.Since(*j.EndedAt) > 2*time.Second
	})
	second := syncJob()
	if _, parts := jobRows(t, st, first, pruneStreams...); parts != 0 {
		t.Errorf("job %d keeps %d parts after the next sync; want none (ended more than state_retention ago)", first, parts)
	}
	if _, parts := jobRows(t, st, second, pruneStreams...); parts == 0 {
		t.Errorf("job %d, just ended, lost its parts", second)
	}
}
