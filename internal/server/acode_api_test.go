package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAcodeAPI_SyncThenJobDetailStatusAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 600)
	if r := e.doJSON(http.MethodPost, "/api/acode/connections/"+local+"/sync", nil, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("sync without credentials: %d, want 401", r.status)
	}
	r := e.doJSON(http.MethodPost, "/api/acode/connections/"+local+"/sync", nil, basic(apiUser, apiPass))
	if r.status != http.StatusAccepted {
		t.Fatalf("sync: %d %s", r.status, r.body)
	}
	var started jobDetail
	r.json(t, &started)
	if r.header.Get("Location") != fmt.Sprintf("/api/acode/jobs/%d", started.ID) {
		t.Errorf("Location %q", r.header.Get("Location"))
	}

	var job jobDetail
	deadline := time.Now().Add(60 * time.Second)
	for {
		r = e.doJSON(http.MethodGet, fmt.Sprintf("/api/acode/jobs/%d", started.ID), nil, nil)
		r.json(t, &job)
		if job.Status == "succeeded" || job.Status == "failed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if job.Status != "succeeded" || job.Rows != e.rows || len(job.Attempts) != 1 {
		t.Fatalf("job %s with %d rows and %d attempts (%s), want succeeded with %d rows in 1 attempt", job.Status, job.Rows, len(job.Attempts), job.Error, e.rows)
	}
	if len(job.Streams) != 3 {
		t.Fatalf("job has %d stream results, want 3", len(job.Streams))
	}
	var sum int64
	for _, s := range job.Streams {
		if s.Status != "committed" || len(s.Files) == 0 || !strings.Contains(s.Partition, s.Stream+"/cog_dt_ingestion=") {
			t.Errorf("stream %+v: want committed with files in its day's partition", s)
		}
		sum += s.Rows
	}
	if sum != e.rows {
		t.Errorf("streams hold %d rows, job %d", sum, e.rows)
	}

	r = e.doJSON(http.MethodGet, "/api/acode/status", nil, nil)
	var st statusView
	r.json(t, &st)
	if len(st.Connections) != 3 {
		t.Fatalf("status lists %d connections, want the example's 3", len(st.Connections))
	}
	for _, c := range st.Connections {
		if c.Name != local {
			continue
		}
		if c.LastSuccess == nil || c.LastSuccess.ID != started.ID || c.RunningJob != nil || c.ID != e.project.Connections[local].ID || len(c.Streams) != 3 {
			t.Errorf("status of %s: %+v", local, c)
		}
	}

	var list struct{ Jobs []jobView }
	e.doJSON(http.MethodGet, "/api/acode/jobs?connection="+local+"&status=succeeded", nil, nil).json(t, &list)
	if len(list.Jobs) != 1 || list.Jobs[0].ID != started.ID {
		t.Errorf("filtered list %+v, want job %d", list.Jobs, started.ID)
	}
	e.doJSON(http.MethodGet, "/api/acode/jobs?status=failed", nil, nil).json(t, &list)
	if len(list.Jobs) != 0 {
		t.Errorf("failed jobs: %+v, want none", list.Jobs)
	}
	if r := e.doJSON(http.MethodGet, "/api/acode/jobs?status=done", nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("bad status filter: %d, want 400", r.status)
	}
	e.assertNoSecrets()
}

func TestAcodeAPI_CancelNeedsAuthAndEndsCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2000, slow...)
	r := e.doJSON(http.MethodPost, "/api/acode/connections/"+local+"/sync", nil, basic(apiUser, apiPass))
	var job jobDetail
	r.json(t, &job)
	e.waitReading(job.ID)
	r = e.doJSON(http.MethodGet, fmt.Sprintf("/api/acode/jobs/%d", job.ID), nil, nil)
	var live jobDetail
	r.json(t, &live)
	if len(live.Progress) == 0 {
		t.Errorf("running job shows no live progress: %s", r.body)
	}
	if r := e.doJSON(http.MethodPost, fmt.Sprintf("/api/acode/jobs/%d/cancel", job.ID), nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("cancel without credentials: %d, want 401", r.status)
	}
	r = e.doJSON(http.MethodPost, fmt.Sprintf("/api/acode/jobs/%d/cancel", job.ID), nil, basic(apiUser, apiPass))
	r.json(t, &job)
	if r.status != http.StatusOK || job.Status != "cancelled" {
		t.Errorf("cancel: %d %s, want cancelled", r.status, r.body)
	}
}

func TestMetrics_JobCountersAfterAJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 600)
	before := string(e.doJSON(http.MethodGet, "/metrics", nil, nil).body)
	if strings.Contains(before, `acode_jobs_total{connection="`+local+`"`) {
		t.Fatalf("job counter present before any job:\n%s", before)
	}
	if !strings.Contains(before, "go_goroutines") {
		t.Error("no Go runtime metrics")
	}
	v3 := airflowV3{e: e, user: apiUser, pass: apiPass}
	job, _ := v3.submit(local)
	if _, err := v3.waitForJob(job.Job.ID); err != nil {
		t.Fatal(err)
	}
	// The job's end is recorded before OnJobEnd runs: poll briefly.
	var after string
	want := `acode_jobs_total{connection="` + local + `",status="succeeded"} 1`
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if after = string(e.doJSON(http.MethodGet, "/metrics", nil, nil).body); strings.Contains(after, want) {
			break
		}
	}
	for _, w := range []string{
		want,
		`acode_job_duration_seconds_count{connection="` + local + `",status="succeeded"} 1`,
		`acode_rows_synced_total{connection="` + local + `",stream="farmarcas_si_analitico_diario"} 600`,
		`acode_rows_synced_total{connection="` + local + `",stream="farmarcas_si_analitico_diario_produtos"} 1000`,
		`acode_bytes_synced_total{connection="` + local + `",stream="farmarcas_si_analitico_diario"}`,
		`acode_last_success_timestamp_seconds{connection="` + local + `"}`,
	} {
		if !strings.Contains(after, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	e.assertNoSecrets()
}
