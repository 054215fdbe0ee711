package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// hookReceiver records the JSON bodies posted to it, by path.
type hookReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs map[string][]map[string]any
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{reqs: map[string][]map[string]any{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		data, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(data, &body)
		h.mu.Lock()
		h.reqs[r.URL.Path] = append(h.reqs[r.URL.Path], body)
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) at(path string) []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.reqs[path]...)
}

func TestServe_ScheduledSyncThatFailsAlertsSlackAndCountsIt(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 50, nil)
	// A basic schedule runs at once on the first start, as in Airbyte.
	p.Edit(t, "connections/connection_mysql_local_acode/configuration.yaml", "schedule_type: manual",
		"schedule_type: basic\n  schedule_data:\n    basic_schedule:\n      time_unit: hours\n      units: 24")
	p.Env["ACODE_PASS"] = "not-the-password" // the job fails on authentication
	recv := newHookReceiver(t)
	const slackPath, routingKey = "/services/T1/B1/slackS3cretPath", "pdR0utingKeyS3cret"
	p.Env["ACODE_SLACK_WEBHOOK_URL"] = recv.srv.URL + slackPath
	p.Env["ACODE_PAGERDUTY_ROUTING_KEY"] = routingKey
	f, err := os.OpenFile(filepath.Join(p.Dir, "acode.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "serve:\n  job_attempts: 1\nalerts:\n  status_page_url: http://acode.test:8001/\n  pagerduty:\n    events_url: %s/v2/enqueue\n", recv.srv.URL)
	f.Close()
	sp := startServe(t, p)

	deadline := time.Now().Add(60 * time.Second)
	for len(recv.at(slackPath)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no Slack alert 60s after start:\n%s", sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	msg := recv.at(slackPath)[0]
	att := msg["attachments"].([]any)[0].(map[string]any)
	if att["title"] != "🚨 Sync failing: connection_mysql_local_acode - CRITICAL" || att["color"] != "danger" ||
		!strings.Contains(att["text"].(string), "failed after 1 attempt(s)") {
		t.Errorf("slack attachment: %v", att)
	}
	if len(recv.at("/v2/enqueue")) != 0 {
		t.Errorf("paged before sync_failing_escalation: %v", recv.at("/v2/enqueue"))
	}

	// The count follows the delivery: Slack has the message a moment
	// before the sink's answer is counted.
	var body []byte
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(sp.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `acode_alerts_total{severity="critical",sink="slack"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks the alert count 30s after Slack had it:\n%s", grepLines(string(body), "acode_alert"))
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := sp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sp.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, sp.stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("still running 40s after SIGTERM:\n%s", sp.stderr)
	}
	logs := sp.stderr.String()
	if !strings.Contains(logs, "alerts on") || !strings.Contains(logs, "connection scheduled") {
		t.Errorf("startup log does not say which sinks and schedules are on:\n%s", logs)
	}
	for _, secret := range []string{"slackS3cretPath", routingKey, "not-the-password"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds secret %q", secret)
		}
	}
	// After a restart the failed slot does not fire again before its next one
	// and the open condition is not announced twice.
	sp = startServe(t, p)
	// The scheduler's first check after the start has run (a slot it fired
	// would have started the job, and the job's end alerts).
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(sp.stderr.String(), "schedules checked") {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted serve did not check its schedules in 30s:\n%s", sp.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(recv.at(slackPath)); n != 1 {
		t.Errorf("%d Slack messages after a restart, want still 1", n)
	}
	_ = sp.cmd.Process.Signal(syscall.SIGTERM)
	<-sp.exited
	st, err := state.Open(context.Background(), filepath.Join(p.Dir, ".acode", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if jobs, err := st.ListJobs(context.Background(), state.JobFilter{}); err != nil || len(jobs) != 1 || jobs[0].Status != state.JobFailed {
		t.Errorf("jobs after two starts: %+v, %v; want the one failed scheduled job", jobs, err)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
