package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/acode-dev/acode/internal/testenv"
)

// The capstone is issue 6's "Done when", end to end with real parts: a
// MariaDB primary and its binlog replica, versitygw, the `acode serve`
// binary, Airflow's calls, a receiver standing in for Slack and PagerDuty,
// Prometheus' scrape and a person's browser.

const (
	capPair       = "connection_mysql_s3_acode"
	capPagePath   = "/services/T0CAP/B0CAP/capSlackS3cret" // the webhook URL's path is its secret
	capRoutingKey = "capPdR0utingKeyS3cret"
	capEvents     = "/v2/enqueue"
	// capDedupKey is the stable PagerDuty key of the seed's condition
	// "primary and backup both unavailable" for the pair.
	capDedupKey = "acode/sources_unavailable/" + capPair
)

// capSettings is acode.yaml: a 1 s health loop, one attempt per job, and
// the alert sinks at the receiver (%s) resolving as soon as a condition
// clears; throttling and escalation keep the seed's defaults.
const capSettings = `state_db: .acode/state.db
sync:
  chunk_rows: 500
  file_size_mb: 1
  connect_timeout: 2s
health:
  interval: 1s
  connect_timeout: 1s
  query_timeout: 5s
failover:
  backoff_jitter: 0
jobs:
  retries: 0
serve:
  job_attempts: 1
alerts:
  status_page_url: http://acode.test:8001/
  clear_after: 0s
  pagerduty:
    events_url: %s` + capEvents + `
`

// capClient calls the running service as Airflow, Prometheus and a person
// do, and fails the test when a response body holds a secret.
type capClient struct {
	t       *testing.T
	sp      *serveProcess
	secrets []string
	token   string
}

func (c *capClient) do(method, path, contentType string, body []byte, auth func(*http.Request)) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.sp.url+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v\n%s", method, path, err, c.sp.stderr)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	c.noSecret(method+" "+path, string(raw))
	return resp.StatusCode, raw
}

func (c *capClient) noSecret(where, text string) {
	c.t.Helper()
	for _, s := range c.secrets {
		if strings.Contains(text, s) {
			c.t.Errorf("%s holds the secret %q", where, s)
		}
	}
}

func (c *capClient) basic(r *http.Request)  { r.SetBasicAuth(serveUser, servePass) }
func (c *capClient) bearer(r *http.Request) { r.Header.Set("Authorization", "Bearer "+c.token) }

func (c *capClient) jsonCall(method, path string, in any, auth func(*http.Request), out any) int {
	c.t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	code, raw := c.do(method, path, "application/json", body, auth)
	if code == http.StatusOK && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v\n%s", method, path, err, raw)
		}
	}
	return code
}

// pollUntilSucceeded is the AirbyteJobSensor: poll while the job runs,
// stop on succeeded, fail on any other end.
func (c *capClient) pollUntilSucceeded(what string, status func() string) {
	c.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		switch s := status(); s {
		case "succeeded":
			return
		case "pending", "running", "incomplete":
		default:
			c.t.Fatalf("%s ended %q:\n%s", what, s, c.sp.stderr)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not succeeded after 40s:\n%s", what, c.sp.stderr)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// syncConfigAPI is provider 3: connections/sync, then jobs/get until done.
func (c *capClient) syncConfigAPI(connectionID string) int64 {
	c.t.Helper()
	var started struct{ Job struct{ ID int64 } }
	if code := c.jsonCall(http.MethodPost, "/api/v1/connections/sync", map[string]string{"connectionId": connectionID}, c.basic, &started); code != http.StatusOK || started.Job.ID == 0 {
		c.t.Fatalf("connections/sync: HTTP %d, job %d\n%s", code, started.Job.ID, c.sp.stderr)
	}
	c.pollUntilSucceeded(fmt.Sprintf("config API job %d", started.Job.ID), func() string {
		var got struct{ Job struct{ Status string } }
		if code := c.jsonCall(http.MethodPost, "/api/v1/jobs/get", map[string]int64{"id": started.Job.ID}, c.basic, &got); code != http.StatusOK {
			c.t.Fatalf("jobs/get: HTTP %d", code)
		}
		return got.Job.Status
	})
	return started.Job.ID
}

// syncPublicAPI is provider 4: a client-credentials token, POST /v1/jobs,
// then GET /v1/jobs/{id} until done.
func (c *capClient) syncPublicAPI(connectionID string) int64 {
	c.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {serveUser}, "client_secret": {servePass}}
	code, raw := c.do(http.MethodPost, "/v1/applications/token", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(raw, &tok); code != http.StatusOK || err != nil || tok.TokenType != "Bearer" || tok.AccessToken == "" {
		c.t.Fatalf("token: HTTP %d %s", code, raw)
	}
	c.token = tok.AccessToken
	var job struct {
		JobID        int64  `json:"jobId"`
		Status       string `json:"status"`
		ConnectionID string `json:"connectionId"`
		RowsSynced   int64  `json:"rowsSynced"`
	}
	if code := c.jsonCall(http.MethodPost, "/v1/jobs", map[string]string{"connectionId": connectionID, "jobType": "sync"}, c.bearer, &job); code != http.StatusOK || job.JobID == 0 {
		c.t.Fatalf("POST /v1/jobs: HTTP %d %+v\n%s", code, job, c.sp.stderr)
	}
	id := job.JobID
	c.pollUntilSucceeded(fmt.Sprintf("public API job %d", id), func() string {
		if code := c.jsonCall(http.MethodGet, fmt.Sprintf("/v1/jobs/%d", id), nil, c.bearer, &job); code != http.StatusOK {
			c.t.Fatalf("GET /v1/jobs/%d: HTTP %d", id, code)
		}
		return job.Status
	})
	if job.ConnectionID != connectionID || job.RowsSynced == 0 {
		c.t.Errorf("public API job %d: connectionId %q rowsSynced %d, want %s and rows", id, job.ConnectionID, job.RowsSynced, connectionID)
	}
	return id
}

// metrics scrapes /metrics as Prometheus does (no credentials).
func (c *capClient) metrics() string {
	c.t.Helper()
	code, raw := c.do(http.MethodGet, "/metrics", "", nil, nil)
	if code != http.StatusOK {
		c.t.Fatalf("/metrics: HTTP %d", code)
	}
	return string(raw)
}

// waitMetrics scrapes until every line is in /metrics, within 20 s.
func (c *capClient) waitMetrics(what string, lines ...string) string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := c.metrics()
		missing := ""
		for _, l := range lines {
			if !strings.Contains(m, l) {
				missing = l
				break
			}
		}
		if missing == "" {
			return m
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: /metrics still lacks %s after 20s:\n%s\n%s", what, missing, grepLines(m, "acode_"), c.sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitHook waits, within 25 s, for a request at path that match accepts.
func waitHook(t *testing.T, recv *hookReceiver, sp *serveProcess, what, path string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(25 * time.Second)
	for {
		for _, b := range recv.at(path) {
			if match(b) {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 25s; %s got %v\nslack got %v\n%s", what, path, recv.at(path), recv.at(capPagePath), sp.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pdEvent(action string) func(map[string]any) bool {
	return func(b map[string]any) bool { return b["event_action"] == action && b["dedup_key"] == capDedupKey }
}

func slackTitled(prefix string) func(map[string]any) bool {
	return func(b map[string]any) bool {
		atts, _ := b["attachments"].([]any)
		for _, a := range atts {
			if m, _ := a.(map[string]any); m != nil && strings.HasPrefix(fmt.Sprint(m["title"]), prefix) {
				return true
			}
		}
		return false
	}
}

func sourceAvailable(role, source string, v int) string {
	return fmt.Sprintf(`acode_source_available{pair=%q,role=%q,source=%q} %d`, capPair, role, source, v)
}

func connectivity(source string, v int) string {
	return fmt.Sprintf(`acode_health_check_status{check="mysql_connectivity",target=%q} %d`, source, v)
}

// TestCapstone_AirflowSyncsThenBothSourcesFailPagesAndRecovers is issue 6's
// "Done when": Airflow's two provider generations sync through acode
// serve; the primary and its replica both die; Slack hears of it,
// PagerDuty is paged with the condition's stable dedup key, /metrics and
// the status page (in Chromium) show it; both come back and the page is
// resolved with the same key. No secret leaks on the way.
func TestCapstone_AirflowSyncsThenBothSourcesFailPagesAndRecovers(t *testing.T) {
	t.Parallel()
	start := time.Now()
	recv := newHookReceiver(t)
	p, primary, replica := pairProject(t, 300, fmt.Sprintf(capSettings, recv.srv.URL))
	p.Env["ACODE_SLACK_WEBHOOK_URL"] = recv.srv.URL + capPagePath
	p.Env["ACODE_PAGERDUTY_ROUTING_KEY"] = capRoutingKey
	secrets := []string{servePass, testenv.ProjectPassword, capRoutingKey, "capSlackS3cret", p.S3.SecretKey}
	connID, err := loadConnectionID(p, capPair)
	if err != nil {
		t.Fatal(err)
	}
	sp := startServe(t, p)
	c := &capClient{t: t, sp: sp, secrets: secrets}

	// Airflow, both generations of the provider, by the connection's UUID.
	first := c.syncConfigAPI(connID)
	second := c.syncPublicAPI(connID)
	if second <= first {
		t.Errorf("public API job %d not after config API job %d", second, first)
	}
	primarySrc, backupSrc := "source_mysql_acode", "source_mysql_acode_backup"
	before := c.waitMetrics("healthy pair",
		fmt.Sprintf(`acode_jobs_total{connection=%q,status="succeeded"} 2`, capPair),
		sourceAvailable("primary", primarySrc, 1), sourceAvailable("backup", backupSrc, 1),
		connectivity(primarySrc, 0), connectivity(backupSrc, 0),
		fmt.Sprintf(`acode_active_source{pair=%q,role="primary",source=%q} 1`, capPair, primarySrc))
	if len(recv.at(capEvents)) != 0 {
		t.Fatalf("paged while healthy: %v", recv.at(capEvents))
	}
	t.Logf("two Airflow syncs and a healthy scrape after %s", time.Since(start).Round(time.Millisecond))

	// The replica dies, and once the health loop has seen it, the primary:
	// the seed's "primary and backup both unavailable".
	replica.Kill(t)
	c.waitMetrics("replica killed", sourceAvailable("backup", backupSrc, 0))
	primary.Kill(t)
	killed := time.Now()
	trigger := waitHook(t, recv, sp, "PagerDuty trigger", capEvents, pdEvent("trigger"))
	if trigger["routing_key"] != capRoutingKey {
		t.Errorf("PagerDuty trigger routed with %v", trigger["routing_key"])
	}
	waitHook(t, recv, sp, "Slack message", capPagePath, slackTitled("🚨 Primary and backup unavailable: "+capPair))
	t.Logf("Slack and PagerDuty told %s after the primary's kill", time.Since(killed).Round(time.Millisecond))

	after := c.waitMetrics("both sources down",
		connectivity(primarySrc, 2), connectivity(backupSrc, 2),
		sourceAvailable("primary", primarySrc, 0), sourceAvailable("backup", backupSrc, 0),
		// Nothing is read: neither source is active, although the state is
		// still primary_active.
		fmt.Sprintf(`acode_active_source{pair=%q,role="primary",source=%q} 0`, capPair, primarySrc),
		fmt.Sprintf(`acode_active_source{pair=%q,role="backup",source=%q} 0`, capPair, backupSrc),
		fmt.Sprintf(`acode_failover_state{pair=%q,state="primary_active"} 1`, capPair),
		`acode_alerts_total{severity="critical",sink="pagerduty"} 1`)
	if after == before {
		t.Error("/metrics did not change")
	}
	if strings.Contains(after, fmt.Sprintf(`acode_consecutive_failures{pair=%q} 0`, capPair)) {
		t.Errorf("/metrics counts no failure of the primary:\n%s", grepLines(after, "consecutive"))
	}

	checkCriticalPage(t, c)

	// Both come back: the page resolves under the same key.
	primary.Restart(t)
	replica.Restart(t)
	waitHook(t, recv, sp, "PagerDuty resolve", capEvents, pdEvent("resolve"))
	waitHook(t, recv, sp, "Slack resolved message", capPagePath, slackTitled("✅ Resolved: Primary and backup unavailable: "+capPair))
	c.waitMetrics("both sources back", sourceAvailable("primary", primarySrc, 1), connectivity(primarySrc, 0),
		fmt.Sprintf(`acode_active_source{pair=%q,role="primary",source=%q} 1`, capPair, primarySrc))
	var triggers int
	for _, b := range recv.at(capEvents) {
		if b["dedup_key"] == capDedupKey && b["event_action"] == "trigger" {
			triggers++
		}
	}
	if triggers != 1 {
		t.Errorf("%d PagerDuty triggers for %s, want 1 (one incident per outage)", triggers, capDedupKey)
	}

	if err := sp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sp.exited:
		if err != nil {
			t.Errorf("acode serve exited with %v after SIGTERM:\n%s", err, sp.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("acode serve still running 30s after SIGTERM:\n%s", sp.stderr)
	}
	c.noSecret("the serve log", sp.stderr.String())
	t.Logf("capstone done in %s", time.Since(start).Round(time.Millisecond))
}

// checkCriticalPage reads the status page in headless Chromium as the
// person on call would, while both sources are down.
func checkCriticalPage(t *testing.T, c *capClient) {
	t.Helper()
	b := testenv.Chromium(t)
	b.SetHeaders(map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(serveUser+":"+servePass))})
	b.Do(chromedp.Navigate(c.sp.url+"/"), chromedp.WaitVisible(chromedp.CSS("#alerts")))

	if got := b.Text("#overall"); !strings.EqualFold(got, "health: critical") {
		t.Errorf("overall health shown as %q, want health: critical", got)
	}
	if title := testenv.Eval[string](b, "document.title"); !strings.HasPrefix(title, "CRITICAL") {
		t.Errorf("page title %q, want it to start with CRITICAL", title)
	}
	alerts := b.Text("#alerts")
	if !strings.Contains(alerts, "Primary and backup unavailable: "+capPair) || !strings.Contains(alerts, "paged") {
		t.Errorf("open alerts shown as %q, want the paged both-unavailable condition", alerts)
	}
	// At a glance: nothing syncs, and why.
	if got := b.Text(".pair-state"); got != "NOTHING SYNCS NOW" {
		t.Errorf("active source shown as %q, want NOTHING SYNCS NOW", got)
	}
	if got := b.Text(".blocked"); !strings.Contains(got, "both unavailable") {
		t.Errorf("why nothing syncs shown as %q", got)
	}
	pair := b.Text(`.pair[data-pair="` + capPair + `"]`)
	if !strings.Contains(pair, "backup source_mysql_acode_backup: unreachable") || !strings.Contains(pair, "consecutive failure") {
		t.Errorf("pair shown as %q, want the primary failing and the backup unreachable", pair)
	}
	for _, src := range []string{"source_mysql_acode", "source_mysql_acode_backup"} {
		sel := `tr.check[data-check="mysql_connectivity"][data-target="` + src + `"]`
		if got := testenv.Eval[string](b, `(document.querySelector('`+sel+`')||{dataset:{}}).dataset.status||"absent"`); got != "critical" {
			t.Errorf("connectivity of %s shown %q, want critical", src, got)
		}
	}
	b.Screenshot("capstone-both-sources-unavailable")
	if probs := b.Problems(); len(probs) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(probs, "\n"))
	}
	c.noSecret("the status page", testenv.Eval[string](b, "document.documentElement.outerHTML"))
}
