// Package server is acode's HTTP API: the Airbyte config API that Airflow's
// Airbyte provider up to 3.x calls, the Airbyte public API of provider 4+,
// acode's own JSON API under /api/acode/, and /metrics. Airflow keeps its
// AirbyteTriggerSyncOperator and AirbyteJobSensor and points them here.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/state"
)

// Config is what a Server serves.
type Config struct {
	Project *config.Project
	State   *state.Store
	Runner  *jobs.Runner
	Metrics *metrics.Registry
	Log     *slog.Logger
	// Credentials guard the job endpoints unless AuthNone.
	Credentials Credentials
	AuthNone    bool
	// TokenTTL is the lifetime of bearer tokens (default 15m).
	TokenTTL time.Duration
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Server handles the API's requests.
type Server struct {
	project      *config.Project
	state        *state.Store
	runner       *jobs.Runner
	metrics      *metrics.Registry
	log          *slog.Logger
	creds        Credentials
	authRequired bool
	tokens       *tokens
	now          func() time.Time
	mux          *http.ServeMux
}

// New returns a Server; it does not listen (see Serve, or use Handler).
func New(cfg Config) (*Server, error) {
	if cfg.Project == nil || cfg.State == nil || cfg.Runner == nil {
		return nil, errors.New("server: project, state and runner are required")
	}
	if !cfg.AuthNone && (cfg.Credentials.User == "" || cfg.Credentials.Password == "") {
		return nil, ErrNoCredentials
	}
	s := &Server{
		project: cfg.Project, state: cfg.State, runner: cfg.Runner, metrics: cfg.Metrics,
		log: cfg.Log, creds: cfg.Credentials, authRequired: !cfg.AuthNone, now: cfg.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	ttl := cfg.TokenTTL
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	s.tokens = newTokens(ttl, s.now)
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Handle adds a route for later parts of the service (status page,
// failover endpoints); wrap mutating handlers with RequireAuth.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// RequireAuth wraps h so that it answers 401 without the API credentials.
func (s *Server) RequireAuth(h http.HandlerFunc) http.HandlerFunc { return s.requireAuth(h) }

func (s *Server) routes() {
	m := s.mux
	// Airbyte config API (Airflow provider <= 3.x), basic auth.
	m.HandleFunc("GET /api/v1/health", s.handleConfigHealth)
	m.HandleFunc("POST /api/v1/connections/sync", s.requireAuth(s.handleConfigSync))
	m.HandleFunc("POST /api/v1/connections/{name}/sync", s.requireAuth(s.handleConfigSyncPath)) // the seed's runbook curl
	m.HandleFunc("POST /api/v1/jobs/get", s.requireAuth(s.handleConfigGetJob))
	m.HandleFunc("POST /api/v1/jobs/cancel", s.requireAuth(s.handleConfigCancel))

	// Airbyte public API (provider >= 4), bearer tokens. Airbyte Cloud
	// serves it at /v1, Airbyte OSS at /api/public/v1: both are accepted.
	for _, p := range []string{"/v1", "/api/public/v1"} {
		m.HandleFunc("GET "+p+"/health", s.handlePublicHealth)
		m.HandleFunc("POST "+p+"/applications/token", s.handleToken)
		m.HandleFunc("POST "+p+"/jobs", s.requireAuth(s.handlePublicCreateJob))
		m.HandleFunc("GET "+p+"/jobs/{id}", s.requireAuth(s.handlePublicGetJob))
		m.HandleFunc("DELETE "+p+"/jobs/{id}", s.requireAuth(s.handlePublicCancel))
	}

	// acode's own API: reads are open, changes need auth.
	m.HandleFunc("GET /api/acode/status", s.handleStatus)
	m.HandleFunc("GET /api/acode/jobs", s.handleListJobs)
	m.HandleFunc("GET /api/acode/jobs/{id}", s.handleGetJob)
	m.HandleFunc("POST /api/acode/jobs/{id}/cancel", s.requireAuth(s.handleCancelJob))
	m.HandleFunc("POST /api/acode/connections/{name}/sync", s.requireAuth(s.handleSync))
	m.HandleFunc("GET /api/acode/alerts", s.handleListAlerts)
	m.HandleFunc("POST /api/acode/alerts/{rest...}", s.requireAuth(s.handleAlert))

	m.Handle("GET /metrics", s.metrics.Handler())
	m.HandleFunc("/", s.handleNoRoute)
}

// handleNoRoute answers requests no route took, in JSON like every other
// reply: 405 naming the allowed methods when the path exists, else 404.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = method
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, method)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
}

// Serve answers requests on ln until ctx is done, then shuts down in the
// order that keeps Airflow informed: new jobs are refused at once, running
// jobs get the runner's grace period and are then cancelled (recorded as
// cancelled) while pollers can still read their end, and last the listener
// closes. shutdownTimeout bounds the whole shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	hs := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s.log.Info("serving the API", "addr", ln.Addr().String(), "auth", s.authRequired)

	select {
	case err := <-served:
		// The listener failed: stop the jobs before reporting it.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		return errors.Join(fmt.Errorf("serve: %w", err), s.runner.Shutdown(sctx))
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new jobs; running jobs get the grace period, then are cancelled", "running", len(s.runner.Running()))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	jobsErr := s.runner.Shutdown(sctx)
	httpErr := hs.Shutdown(sctx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		httpErr = errors.Join(httpErr, err)
	}
	if httpErr != nil {
		httpErr = fmt.Errorf("shut down HTTP: %w", httpErr)
	}
	return errors.Join(jobsErr, httpErr)
}
