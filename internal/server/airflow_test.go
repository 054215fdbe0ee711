package server

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// airflowV3 makes exactly the calls of apache-airflow-providers-airbyte up
// to 3.x (an HttpHook with basic auth): submit_sync_connection, get_job,
// cancel_job, test_connection, and AirbyteJobSensor's polling.
type airflowV3 struct {
	e          *env
	user, pass string
}

type v3Job struct {
	Job struct {
		ID         int64  `json:"id"`
		ConfigType string `json:"configType"`
		ConfigID   string `json:"configId"`
		CreatedAt  int64  `json:"createdAt"`
		UpdatedAt  int64  `json:"updatedAt"`
		Status     string `json:"status"`
	} `json:"job"`
	Attempts []struct {
		Attempt struct {
			ID            int64  `json:"id"`
			Status        string `json:"status"`
			RecordsSynced int64  `json:"recordsSynced"`
		} `json:"attempt"`
	} `json:"attempts"`
}

func (a airflowV3) post(endpoint string, body any) response {
	return a.e.doJSON(http.MethodPost, "/api/v1/"+endpoint, body, basic(a.user, a.pass))
}

// submit is AirbyteHook.submit_sync_connection; the operator reads job.id.
func (a airflowV3) submit(connectionID string) (v3Job, response) {
	r := a.post("connections/sync", map[string]string{"connectionId": connectionID})
	var j v3Job
	if r.status == http.StatusOK {
		r.json(a.e.t, &j)
	}
	return j, r
}

// getJob is AirbyteHook.get_job; the sensor reads job.status.
func (a airflowV3) getJob(id int64) (v3Job, response) {
	r := a.post("jobs/get", map[string]int64{"id": id})
	var j v3Job
	if r.status == http.StatusOK {
		r.json(a.e.t, &j)
	}
	return j, r
}

func (a airflowV3) cancel(id int64) (v3Job, response) {
	r := a.post("jobs/cancel", map[string]int64{"id": id})
	var j v3Job
	if r.status == http.StatusOK {
		r.json(a.e.t, &j)
	}
	return j, r
}

// waitForJob is AirbyteHook.wait_for_job / AirbyteJobSensor.poke: keep
// polling while running, pending or incomplete; succeeded ends it; any
// other status is the task's failure.
func (a airflowV3) waitForJob(id int64) (v3Job, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		j, r := a.getJob(id)
		if r.status != http.StatusOK {
			return j, fmt.Errorf("jobs/get: HTTP %d: %s", r.status, r.body)
		}
		switch j.Job.Status {
		case "running", "pending", "incomplete":
			continue
		case "succeeded":
			return j, nil
		case "failed", "cancelled":
			return j, fmt.Errorf("job %s", j.Job.Status)
		default:
			return j, fmt.Errorf("unexpected state %q", j.Job.Status)
		}
	}
	return v3Job{}, fmt.Errorf("job %d not ready after 60s", id)
}

// airflowV4 makes exactly the calls of provider 4+ through Airbyte's Python
// SDK: a client-credentials token (form-encoded), then the jobs API with
// the bearer token.
type airflowV4 struct {
	e      *env
	prefix string // "/v1" (Cloud) or "/api/public/v1" (OSS)
	token  string
}

type v4Job struct {
	JobID         int64  `json:"jobId"`
	Status        string `json:"status"`
	JobType       string `json:"jobType"`
	ConnectionID  string `json:"connectionId"`
	StartTime     string `json:"startTime"`
	LastUpdatedAt string `json:"lastUpdatedAt"`
	Duration      string `json:"duration"`
	BytesSynced   int64  `json:"bytesSynced"`
	RowsSynced    int64  `json:"rowsSynced"`
}

// login is the SDK's ClientCredentialsHook.do_token_request.
func (a *airflowV4) login(clientID, secret string) response {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	r := a.e.do(http.MethodPost, a.prefix+"/applications/token", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	if r.status == http.StatusOK {
		var tok struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int64  `json:"expires_in"`
		}
		r.json(a.e.t, &tok)
		if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.ExpiresIn <= 60 {
			// The SDK rejects another token_type and renews a token that
			// expires within 60 s before every call.
			a.e.t.Fatalf("token response %s: want token_type Bearer and expires_in over 60", r.body)
		}
		a.token = tok.AccessToken
	}
	return r
}

func (a *airflowV4) job(r response) v4Job {
	var j v4Job
	if r.status == http.StatusOK {
		r.json(a.e.t, &j)
		// JobResponse's required fields; the SDK fails without them.
		if j.JobID == 0 || j.Status == "" || j.JobType != "sync" || j.ConnectionID == "" || j.StartTime == "" {
			a.e.t.Fatalf("job response lacks a required field: %s", r.body)
		}
	}
	return j
}

// submit is AirbyteHook.submit_sync_connection (jobs.create_job).
func (a *airflowV4) submit(connectionID string) (v4Job, response) {
	r := a.e.doJSON(http.MethodPost, a.prefix+"/jobs", map[string]string{"connectionId": connectionID, "jobType": "sync"}, bearer(a.token))
	return a.job(r), r
}

func (a *airflowV4) getJob(id int64) (v4Job, response) {
	r := a.e.doJSON(http.MethodGet, fmt.Sprintf("%s/jobs/%d", a.prefix, id), nil, bearer(a.token))
	return a.job(r), r
}

func (a *airflowV4) cancel(id int64) (v4Job, response) {
	r := a.e.doJSON(http.MethodDelete, fmt.Sprintf("%s/jobs/%d", a.prefix, id), nil, bearer(a.token))
	return a.job(r), r
}

// waitForJob is the provider 4 AirbyteHook.wait_for_job.
func (a *airflowV4) waitForJob(id int64) (v4Job, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		j, r := a.getJob(id)
		if r.status != http.StatusOK {
			return j, fmt.Errorf("get job: HTTP %d: %s", r.status, r.body)
		}
		switch j.Status {
		case "running", "pending", "incomplete":
			continue
		case "succeeded":
			return j, nil
		default:
			return j, fmt.Errorf("job %s", j.Status)
		}
	}
	return v4Job{}, fmt.Errorf("job %d not ready after 60s", id)
}

var isoDurationRE = regexp.MustCompile(`^PT(\d+H)?(\d+M)?\d+S$`)

func TestAirflowProvider3_TriggerByUUIDAndPollUntilSucceeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 600)
	af := airflowV3{e: e, user: apiUser, pass: apiPass}
	if r := e.doJSON(http.MethodGet, "/api/v1/health", nil, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), `"available":true`) {
		t.Fatalf("health: %d %s", r.status, r.body)
	}
	uuid := e.project.Connections[local].ID
	before := time.Now().Unix()
	job, r := af.submit(uuid)
	if r.status != http.StatusOK {
		t.Fatalf("connections/sync: %d %s", r.status, r.body)
	}
	if job.Job.ID == 0 || job.Job.ConfigType != "sync" || job.Job.ConfigID != uuid {
		t.Errorf("submitted job %+v, want an id, configType sync, configId %s", job.Job, uuid)
	}
	if job.Job.CreatedAt < before-1 || job.Job.CreatedAt > time.Now().Unix()+1 || job.Job.UpdatedAt < job.Job.CreatedAt {
		t.Errorf("createdAt %d updatedAt %d: want epoch seconds of now", job.Job.CreatedAt, job.Job.UpdatedAt)
	}
	if job.Job.Status != "pending" && job.Job.Status != "running" {
		t.Errorf("submitted job is %s, want pending or running", job.Job.Status)
	}
	done, err := af.waitForJob(job.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Attempts) != 1 || done.Attempts[0].Attempt.ID != 0 || done.Attempts[0].Attempt.Status != "succeeded" ||
		done.Attempts[0].Attempt.RecordsSynced != e.rows {
		t.Errorf("attempts %+v, want one succeeded attempt 0 with %d records", done.Attempts, e.rows)
	}
	e.assertNoSecrets()
}

func TestAirflowProvider4_TokenTriggerByNameAndPollUntilSucceeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 600)
	for _, prefix := range []string{"/v1", "/api/public/v1"} {
		af := &airflowV4{e: e, prefix: prefix}
		if r := e.doJSON(http.MethodGet, prefix+"/health", nil, nil); r.status != http.StatusOK {
			t.Fatalf("%s/health: %d", prefix, r.status)
		}
		if r := af.login(apiUser, apiPass); r.status != http.StatusOK {
			t.Fatalf("token: %d %s", r.status, r.body)
		}
		job, r := af.submit(local)
		if r.status != http.StatusOK {
			t.Fatalf("POST %s/jobs: %d %s", prefix, r.status, r.body)
		}
		if job.ConnectionID != e.project.Connections[local].ID {
			t.Errorf("connectionId %q, want the connection's UUID %q", job.ConnectionID, e.project.Connections[local].ID)
		}
		done, err := af.waitForJob(job.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if done.RowsSynced != e.rows || done.BytesSynced <= 0 {
			t.Errorf("rowsSynced %d bytesSynced %d, want %d rows and some bytes", done.RowsSynced, done.BytesSynced, e.rows)
		}
		if !isoDurationRE.MatchString(done.Duration) {
			t.Errorf("duration %q is not an ISO 8601 duration", done.Duration)
		}
		for _, ts := range []string{done.StartTime, done.LastUpdatedAt} {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				t.Errorf("time %q: %v", ts, err)
			}
		}
	}
	e.assertNoSecrets()
}

func TestAirflow_CancelThroughBothAPIsEndsCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2000, slow...)
	v3 := airflowV3{e: e, user: apiUser, pass: apiPass}
	v4 := &airflowV4{e: e, prefix: "/v1"}
	if r := v4.login(apiUser, apiPass); r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}

	first, _ := v3.submit(local)
	e.waitReading(first.Job.ID)
	got, r := v3.cancel(first.Job.ID)
	if r.status != http.StatusOK || got.Job.Status != "cancelled" {
		t.Fatalf("jobs/cancel: %d %s, want the job cancelled", r.status, r.body)
	}
	if _, err := v3.waitForJob(first.Job.ID); err == nil || err.Error() != "job cancelled" {
		t.Errorf("sensor after cancel: %v, want job cancelled", err)
	}

	second, r := v4.submit(local)
	if r.status != http.StatusOK {
		t.Fatalf("POST /v1/jobs after a cancel: %d %s", r.status, r.body)
	}
	e.waitReading(second.JobID)
	c, r := v4.cancel(second.JobID)
	if r.status != http.StatusOK || c.Status != "cancelled" {
		t.Fatalf("DELETE /v1/jobs: %d %s, want the job cancelled", r.status, r.body)
	}
	if j, _ := e.state.Job(t.Context(), second.JobID); j.Status != "cancelled" {
		t.Errorf("state store says %s, want cancelled", j.Status)
	}
}

func TestAirflow_SecondTriggerWhileRunningIsAConflictNamingTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2000, slow...)
	v3 := airflowV3{e: e, user: apiUser, pass: apiPass}
	first, r := v3.submit(local)
	if r.status != http.StatusOK {
		t.Fatalf("first trigger: %d %s", r.status, r.body)
	}
	_, r = v3.submit(e.project.Connections[local].ID)
	if r.status != http.StatusConflict {
		t.Fatalf("second trigger: %d %s, want 409", r.status, r.body)
	}
	var conflict apiError
	r.json(t, &conflict)
	if conflict.JobID != first.Job.ID || !strings.Contains(conflict.Message, fmt.Sprintf("job %d", first.Job.ID)) {
		t.Errorf("conflict %+v does not name job %d", conflict, first.Job.ID)
	}
	v4 := &airflowV4{e: e, prefix: "/v1"}
	v4.login(apiUser, apiPass)
	if _, r := v4.submit(local); r.status != http.StatusConflict {
		t.Errorf("public API trigger while running: %d, want 409", r.status)
	}
	v3.cancel(first.Job.ID)
}

func TestAirflow_WrongCredentialsAre401(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10)
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
	}{
		{"none", nil},
		{"wrong password", basic(apiUser, "wrong")},
		{"wrong user", basic("root", apiPass)},
		{"unknown token", bearer("made-up")},
	} {
		r := e.doJSON(http.MethodPost, "/api/v1/connections/sync", map[string]string{"connectionId": local}, tc.auth)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: config API answered %d, want 401 with WWW-Authenticate", tc.name, r.status)
		}
		if r := e.doJSON(http.MethodGet, "/v1/jobs/1", nil, tc.auth); r.status != http.StatusUnauthorized {
			t.Errorf("%s: public API answered %d, want 401", tc.name, r.status)
		}
	}
	v4 := &airflowV4{e: e, prefix: "/v1"}
	if r := v4.login(apiUser, "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("token with a wrong secret: %d, want 401", r.status)
	}
	// JSON token requests work too; the token expires after token_ttl.
	r := e.doJSON(http.MethodPost, "/v1/applications/token", map[string]string{"client_id": apiUser, "client_secret": apiPass}, nil)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.json(t, &tok)
	if r := e.doJSON(http.MethodGet, "/v1/jobs/999", nil, bearer(tok.AccessToken)); r.status != http.StatusNotFound {
		t.Errorf("fresh token: %d, want 404 for an unknown job", r.status)
	}
	e.clock.advance(16 * time.Minute)
	if r := e.doJSON(http.MethodGet, "/v1/jobs/999", nil, bearer(tok.AccessToken)); r.status != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", r.status)
	}
	if jobs, _ := e.state.ListJobs(t.Context(), state.JobFilter{}); len(jobs) != 0 {
		t.Errorf("unauthorized requests created %d jobs", len(jobs))
	}
	e.assertNoSecrets()
}

func TestAirflow_UnknownConnectionOrJobIs404WithAClearMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10)
	v3 := airflowV3{e: e, user: apiUser, pass: apiPass}
	_, r := v3.submit("connection_mysql_s3_acod")
	if msg := r.errorMessage(t); r.status != http.StatusNotFound || !strings.Contains(msg, `"connection_mysql_s3_acod"`) || !strings.Contains(msg, "connection_mysql_s3_acode") {
		t.Errorf("unknown connection: %d %q, want 404 naming it and the known ones", r.status, msg)
	}
	v4 := &airflowV4{e: e, prefix: "/v1"}
	v4.login(apiUser, apiPass)
	if _, r := v4.submit("00000000-0000-0000-0000-000000000000"); r.status != http.StatusNotFound {
		t.Errorf("public API, unknown connection: %d, want 404", r.status)
	}
	if _, r := v3.getJob(424242); r.status != http.StatusNotFound || !strings.Contains(r.errorMessage(t), "424242") {
		t.Errorf("unknown job: %d %s, want 404 naming it", r.status, r.body)
	}
	if _, r := v4.cancel(424242); r.status != http.StatusNotFound {
		t.Errorf("cancel unknown job: %d, want 404", r.status)
	}
	if r := e.doJSON(http.MethodPost, "/v1/jobs", map[string]string{"connectionId": local, "jobType": "reset"}, bearer(v4.token)); r.status != http.StatusBadRequest {
		t.Errorf("reset job: %d, want 400", r.status)
	}
}

func TestAPI_WrongMethodIs405AndUnknownPathIs404InJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10)
	r := e.doJSON(http.MethodGet, "/api/v1/connections/sync", nil, basic(apiUser, apiPass))
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" || !strings.Contains(r.errorMessage(t), "use POST") {
		t.Errorf("GET connections/sync: %d Allow=%q %s, want 405 allowing POST", r.status, r.header.Get("Allow"), r.body)
	}
	r = e.doJSON(http.MethodGet, "/api/v2/nothing", nil, nil)
	if r.status != http.StatusNotFound || !strings.Contains(r.errorMessage(t), "no endpoint GET /api/v2/nothing") {
		t.Errorf("unknown path: %d %s, want a JSON 404", r.status, r.body)
	}
}
