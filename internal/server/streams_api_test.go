package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// A stream whose table is gone fails alone: the job API lists every
// selected stream with its status and error, the others committed.
func TestAcodeAPI_JobListsEveryStreamWhenOneFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 300)
	db := e.project.Connections[local].Source.Database
	testenv.SharedMariaDB(t).Exec(t, "RENAME TABLE `"+db+"`.farmarcas_si_analitico_diario_complemento TO `"+db+"`.complemento_gone")
	r := e.doJSON(http.MethodPost, "/api/acode/connections/"+local+"/sync", nil, basic(apiUser, apiPass))
	if r.status != http.StatusAccepted {
		t.Fatalf("sync: %d %s", r.status, r.body)
	}
	var job jobDetail
	r.json(t, &job)
	id := job.ID
	deadline := time.Now().Add(60 * time.Second)
	for job.Status != "failed" && job.Status != "succeeded" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		e.doJSON(http.MethodGet, fmt.Sprintf("/api/acode/jobs/%d", id), nil, nil).json(t, &job)
	}
	if job.Status != "failed" || !strings.Contains(job.Error, "farmarcas_si_analitico_diario_complemento") {
		t.Fatalf("job %s (%s), want failed naming the stream", job.Status, job.Error)
	}
	if len(job.Streams) != 3 {
		t.Fatalf("job lists %d streams, want 3: %+v", len(job.Streams), job.Streams)
	}
	for _, s := range job.Streams {
		want := "committed"
		if s.Stream == "farmarcas_si_analitico_diario_complemento" {
			want = "failed"
			if s.Error == "" {
				t.Errorf("the failed stream carries no error")
			}
		}
		if s.Status != want {
			t.Errorf("stream %s: %s (%s), want %s", s.Stream, s.Status, s.Error, want)
		}
	}
}
