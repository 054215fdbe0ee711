package page

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/server"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	apiUser   = "airflow"
	apiPass   = "Api-Pa55-never-on-the-page"
	srcPass   = "Src-Pa55-never-on-the-page"
	awsSecret = "AWS-secret-never-on-the-page"
	primary   = "connection_mysql_s3_acode"
	backup    = "connection_mysql_s3_acode_backup"
)

// env is the example project's acode serve handler with the page, over an
// empty state store.
type env struct {
	t       *testing.T
	url     string
	project *config.Project
	state   *state.Store
	pairs   []failover.Pair
	now     time.Time

	mu       sync.Mutex
	switches []failover.Decision // heard by OnSwitch
}

func exampleDir(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples", "acode-project")
}

// newEnv serves the example project (loaded in place, its state store in
// a temp dir) with the page public or behind the API credentials.
func newEnv(t *testing.T, public bool) *env {
	t.Helper()
	vars := map[string]string{"ACODE_PASS": srcPass, "ACODE_BACKUP_HOST": "127.0.0.1", "ACODE_BACKUP_USER": "u",
		"ACODE_BACKUP_PASS": srcPass, "FARMARCAS_AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "FARMARCAS_AWS_SECRET_ACCESS_KEY": awsSecret}
	p, err := config.Load(exampleDir(t), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, p, public)
}

// serve registers the page on a real server over a fresh store.
func serve(t *testing.T, p *config.Project, public bool) *env {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := failover.PairsFrom(p)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := metrics.New()
	reg.MustRegister(metrics.NewStatus(st, pairs, log))
	runner := jobs.New(&syncer.Syncer{Project: p, State: st, Log: log}, jobs.Options{MaxAttempts: 1, OnJobEnd: reg.Jobs.Observe})
	srv, err := server.New(server.Config{Project: p, State: st, Runner: runner, Log: log, Metrics: reg,
		Credentials: server.Credentials{User: apiUser, Password: apiPass}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, project: p, state: st, pairs: pairs, now: time.Now().UTC()}
	policy := failover.PolicyFrom(p.Settings.Failover)
	pg, err := New(Options{Project: p, State: st, Pairs: pairs, Policy: policy, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.HandlePage(pg, AssetPrefix, Assets(), public)
	srv.HandlePairSwitches(server.PairSwitches{State: st, Pairs: pairs, Policy: policy, Log: log,
		OnSwitch: func(_ context.Context, d failover.Decision) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.switches = append(e.switches, d)
		}})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := runner.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
		st.Close()
	})
	e.url = hs.URL
	return e
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends one request with basic auth when auth is true; hdr adds headers.
func (e *env) do(method, path string, auth bool, body string, hdr ...string) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth(apiUser, apiPass)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// page fetches / with the credentials and fails unless it is 200.
func (e *env) page() string {
	e.t.Helper()
	r := e.do("GET", "/", true, "")
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /: %d %s", r.status, r.body)
	}
	return r.body
}
