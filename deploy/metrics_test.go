package deploy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/cluster"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// exported scrapes /metrics of a registry built as `acode serve` builds
// it, after a job, a health round, a failover, a running job, a quality
// report and an alert put a sample in every metric, and returns the
// metric names it lists.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pair := failover.Pair{Primary: "conn", Backup: "conn_backup", PrimarySource: "src", BackupSource: "src_backup"}

	reg := metrics.New()
	reg.MustRegister(metrics.NewStatus(st, []failover.Pair{pair}, nil).WithConnections(map[string][]string{"conn": {"diario"}}))
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer receiver.Close()
	hook, err := alert.NewWebhook(receiver.URL, receiver.Client())
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := alert.New(ctx, alert.Config{Store: st, Chat: []alert.Sink{hook}})
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(mgr.Collectors()...)
	node, err := cluster.Join(ctx, st, cluster.Options{Addr: "127.0.0.1:8001"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Leave(ctx)
	reg.MustRegister(node.Collectors()...)

	now := time.Now()
	reg.Jobs.Observe(&syncer.Result{Connection: "conn", Status: "succeeded", Duration: 60, EndedAt: now,
		Streams: []syncer.StreamResult{{Name: "diario", Rows: 1, Bytes: 1}}}, nil)
	done, _ := st.CreateJob(ctx, "conn", "primary", "me:1")
	if err := st.FinishJob(ctx, done.ID, state.JobSucceeded, "", 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveQualityReport(ctx, state.QualityReport{JobID: done.ID, Connection: "conn", Stream: "diario", Score: 1}); err != nil {
		t.Fatal(err)
	}
	running, _ := st.CreateJob(ctx, "conn", "primary", "me:1")
	if err := st.SetJobStatus(ctx, running.ID, state.JobRunning, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordHealth(ctx, []state.HealthRecord{{Check: "mysql_connectivity", Target: "src", Status: "ok", Time: now}}); err != nil {
		t.Fatal(err)
	}
	lag := int64(1)
	if _, err := st.UpdateFailover(ctx, "conn", state.FailoverState{}, func(s *state.FailoverState) ([]state.FailoverTransition, error) {
		s.State, s.BackupLagSeconds = "primary_active", &lag
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := mgr.Raise(ctx, "test/conn", failure.Critical, alert.Details{Message: "test"}); err != nil {
		t.Fatal(err)
	}

	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)`).FindAllStringSubmatch(string(body), -1) {
		names[m[1]] = true
		if m[2] == "histogram" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+suffix] = true
			}
		}
	}
	if !names["acode_jobs_total"] || !names["acode_alerts_total"] {
		t.Fatalf("the scrape lacks job or alert metrics:\n%s", body)
	}
	return names
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var acodeMetric = regexp.MustCompile(`\bacode_[a-z_]+[a-z]\b`)

// metricNames lists the acode_ names in s, skipping PromQL's label names
// that happen to follow the prefix (none do today).
func metricNames(s string) []string {
	return acodeMetric.FindAllString(strings.ReplaceAll(s, "job=\"acode\"", ""), -1)
}
