package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real service: a scheduled sync that fails opens sync_failing, the
// escalation matrix pages its first level (on-call) at once, an ack
// through the real API with the API credentials is recorded with who and
// shown on the status page, and a restart pages nobody again.
func TestServe_FailingSyncPagesOnCallAndTheAckThroughTheAPIHoldsAcrossARestart(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 50, nil)
	p.Edit(t, "connections/connection_mysql_local_acode/configuration.yaml", "schedule_type: manual",
		"schedule_type: basic\n  schedule_data:\n    basic_schedule:\n      time_unit: hours\n      units: 24")
	p.Env["ACODE_PASS"] = "not-the-password" // the job fails on authentication
	recv := newHookReceiver(t)
	const oncallKey = "0nCallR0utingKeyS3cret"
	p.Env["ACODE_PAGERDUTY_ONCALL_ROUTING_KEY"] = oncallKey
	f, err := os.OpenFile(filepath.Join(p.Dir, "acode.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "serve:\n  job_attempts: 1\nalerts:\n  pagerduty:\n    events_url: %s/v2/enqueue\n", recv.srv.URL)
	f.Close()
	sp := startServe(t, p)

	triggers := func() []map[string]any {
		var out []map[string]any
		for _, ev := range recv.at("/v2/enqueue") {
			if ev["event_action"] == "trigger" {
				out = append(out, ev)
			}
		}
		return out
	}
	// Alert evaluation runs every minute on the leader: the page comes at
	// the failure or at the next evaluation.
	deadline := time.Now().Add(150 * time.Second)
	for len(triggers()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no on-call page 150s after start:\n%s", sp.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	page := triggers()[0]
	const key = "sync_failing/connection_mysql_local_acode"
	if page["routing_key"] != oncallKey || page["dedup_key"] != "acode/"+key {
		t.Fatalf("page: %v", page)
	}

	call := func(method, path string, body string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, sp.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.SetBasicAuth(serveUser, servePass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if status, body := call(http.MethodPost, "/api/acode/alerts/"+key+"/ack", "", false); status != http.StatusUnauthorized {
		t.Errorf("ack without credentials: %d %s", status, body)
	}
	status, body := call(http.MethodPost, "/api/acode/alerts/"+key+"/ack", `{"by": "maria.santos"}`, true)
	if status != http.StatusOK || !strings.Contains(body, `"acknowledged_by":"maria.santos (api:`+serveUser+`)"`) ||
		!strings.Contains(body, `"escalation_level":1`) {
		t.Fatalf("ack: %d %s", status, body)
	}
	if status, body := call(http.MethodGet, "/", "", true); status != http.StatusOK || !strings.Contains(body, "acknowledged by maria.santos") {
		t.Errorf("status page after the ack: %d, want it to show the ack", status)
	}

	if err := sp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-sp.exited
	sp = startServe(t, p)
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(sp.stderr.String(), "schedules checked") {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted serve did not check its schedules in 30s:\n%s", sp.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(triggers()); n != 1 {
		t.Errorf("%d pages after the restart, want still the one", n)
	}
	if status, body := call(http.MethodGet, "/", "", true); status != http.StatusOK || !strings.Contains(body, "acknowledged by maria.santos") {
		t.Errorf("status page after the restart: %d, want it to still show the ack", status)
	}
	_ = sp.cmd.Process.Signal(syscall.SIGTERM)
	<-sp.exited
	if logs := sp.stderr.String(); strings.Contains(logs, oncallKey) {
		t.Error("the log holds the routing key")
	}
}
