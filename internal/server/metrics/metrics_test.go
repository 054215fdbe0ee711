package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestJobs_LastSuccessSurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok, _ := st.CreateJob(ctx, "conn_a", "primary", "me:1")
	if err := st.FinishJob(ctx, ok.ID, state.JobSucceeded, "", 10, 100); err != nil {
		t.Fatal(err)
	}
	bad, _ := st.CreateJob(ctx, "conn_a", "primary", "me:1")
	if err := st.FinishJob(ctx, bad.ID, state.JobFailed, "boom", 0, 0); err != nil {
		t.Fatal(err)
	}
	succeeded, _ := st.Job(ctx, ok.ID)

	r := New()
	if err := r.Jobs.LoadLastSuccess(ctx, st, []string{"conn_a", "conn_never_ran"}); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, r)
	want := `acode_last_success_timestamp_seconds{connection="conn_a"} ` + strconv.FormatFloat(float64(succeeded.EndedAt.Unix()), 'g', -1, 64)
	if !strings.Contains(body, want) {
		t.Errorf("scrape lacks %s", want)
	}
	if strings.Contains(body, "conn_never_ran") {
		t.Error("a connection that never succeeded has a last-success time")
	}
}

func TestJobs_ObserveCountsByStatusAndStream(t *testing.T) {
	t.Parallel()
	r := New()
	end := time.Unix(1_800_000_000, 0)
	r.Jobs.Observe(&syncer.Result{Connection: "c", Status: "failed", Duration: 5, EndedAt: end}, nil)
	r.Jobs.Observe(&syncer.Result{Connection: "c", Status: "succeeded", Duration: 50, EndedAt: end,
		Streams: []syncer.StreamResult{{Name: "s1", Rows: 7, Bytes: 70}}}, nil)
	body := scrape(t, r)
	for _, w := range []string{
		`acode_jobs_total{connection="c",status="failed"} 1`,
		`acode_jobs_total{connection="c",status="succeeded"} 1`,
		`acode_job_duration_seconds_bucket{connection="c",status="succeeded",le="80"} 1`,
		`acode_rows_synced_total{connection="c",stream="s1"} 7`,
		`acode_bytes_synced_total{connection="c",stream="s1"} 70`,
		`acode_last_success_timestamp_seconds{connection="c"} 1.8e+09`,
		`go_goroutines`, `process_open_fds`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("scrape lacks %s", w)
		}
	}
}
