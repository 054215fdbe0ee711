package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	local      = "connection_mysql_local_acode"
	apiUser    = "airflow"
	apiPass    = "Api-Pa55-never-shown"
	awsSecret  = "AWS-secret-never-shown-1234"
	slowSecond = "max_rows_per_second: 300"
)

// slow makes a job last several seconds, so it can be caught running.
var slow = []string{slowSecond, "max_parallel_reads: 1", "parallel_streams: 1"}

// env is a running acode API over a seeded MariaDB database, syncing to
// the local destination.
type env struct {
	t       *testing.T
	url     string
	project *config.Project
	state   *state.Store
	runner  *jobs.Runner
	rows    int64 // rows of the three tables together
	bodies  *recorder
	clock   *clock
}

// clock is the server's time, which a test may move forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// recorder keeps every response body the test's clients read, to check
// that no secret is ever among them.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, req.Method+" "+req.URL.Path+"\n"+string(body))
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// newEnv seeds a database with diario rows (the other tables follow from
// it), and serves the API over loopback until the test ends.
func newEnv(t *testing.T, diario int, syncSettings ...string) *env {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	ctx := context.Background()
	counts := demotest.Fill(t, m, database, demo.Options{Rows: diario, Seed: 5, Days: 2})
	tp := testenv.NewProject(t, m, database, nil)
	tp.Env["FARMARCAS_AWS_SECRET_ACCESS_KEY"] = awsSecret
	tp.Settings(t, append([]string{"chunk_rows: 500"}, syncSettings...)...)
	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	reg := metrics.New()
	runner := jobs.New(&syncer.Syncer{Project: p, State: st, Log: log}, jobs.Options{MaxAttempts: 1, OnJobEnd: reg.Jobs.Observe})
	return serve(t, p, st, runner, reg, log, counts)
}

// serve runs the API over loopback until the test ends; the runner and the
// state store are shut down with it.
func serve(t *testing.T, p *config.Project, st *state.Store, runner *jobs.Runner, reg *metrics.Registry, log *slog.Logger, counts demo.Counts) *env {
	t.Helper()
	clk := &clock{}
	srv, err := New(Config{Project: p, State: st, Runner: runner, Metrics: reg, Log: log,
		Credentials: Credentials{User: apiUser, Password: apiPass}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := runner.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
		st.Close()
	})
	return &env{t: t, url: hs.URL, project: p, state: st, runner: runner, clock: clk, bodies: &recorder{},
		rows: counts.Diario + counts.Produtos + counts.Complemento}
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorMessage is the message of an error reply.
func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	var e apiError
	r.json(t, &e)
	return e.Message
}

// do sends one request; auth, when set, decorates it.
func (e *env) do(method, path, contentType string, body []byte, auth func(*http.Request)) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := (&http.Client{Transport: e.bodies, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (e *env) doJSON(method, path string, body any, auth func(*http.Request)) response {
	e.t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(method, path, "application/json", data, auth)
}

func basic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// waitReading polls until job id has read rows, so a cancel lands mid-job.
func (e *env) waitReading(id int64) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p, ok := e.runner.Progress(id); ok {
			for _, s := range p.Streams() {
				if s.Rows() > 0 {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("job %d read no rows in 20s", id)
}

// assertNoSecrets fails when any recorded response body holds a secret.
func (e *env) assertNoSecrets() {
	e.t.Helper()
	bodies := e.bodies.all()
	if len(bodies) == 0 {
		e.t.Fatal("no responses recorded")
	}
	for _, b := range bodies {
		for _, secret := range []string{testenv.ProjectPassword, awsSecret, apiPass} {
			if strings.Contains(b, secret) {
				e.t.Errorf("a response holds a secret:\n%s", b)
			}
		}
	}
}
