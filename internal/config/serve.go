package config

import (
	"regexp"
	"strings"
	"time"
)

// Auth modes of the HTTP API.
const (
	AuthRequired = "required" // basic auth or a bearer token on every job endpoint
	AuthNone     = "none"     // no credentials: only behind a trusted proxy or on loopback
)

// Who may read the status page at /.
const (
	StatusPageAuth   = "auth"   // the API credentials, like the job endpoints
	StatusPagePublic = "public" // anyone who reaches the port; its buttons still need the credentials
)

// ServeSettings tune `acode serve` (acode.yaml section "serve"). The API
// credentials themselves are never in the file: it names the environment
// variables that hold them, so the file can be committed.
type ServeSettings struct {
	Listen        string        // listen: host:port of the HTTP API (Airbyte's server listened on :8001)
	Auth          string        // auth: AuthRequired or AuthNone
	UserEnv       string        // user_env: variable holding the API user (Airflow connection login, client_id)
	PasswordEnv   string        // password_env: variable holding its password (client_secret)
	TokenTTL      time.Duration // token_ttl: lifetime of a bearer token from /v1/applications/token
	ShutdownGrace time.Duration // shutdown_grace: running jobs may finish this long after SIGTERM before they are cancelled
	JobAttempts   int           // job_attempts: attempts of a job started through the API
	RetryDelay    time.Duration // retry_delay: pause between those attempts
	StatusPage    string        // status_page: StatusPageAuth or StatusPagePublic
	MaxJobs       int           // max_jobs: jobs this replica runs at once, 0 = no limit; the others wait queued for a free slot on any replica
}

func defaultServeSettings() ServeSettings {
	return ServeSettings{
		Listen:        "127.0.0.1:8001",
		Auth:          AuthRequired,
		UserEnv:       "ACODE_API_USER",
		PasswordEnv:   "ACODE_API_PASSWORD",
		TokenTTL:      15 * time.Minute,
		ShutdownGrace: 20 * time.Second,
		JobAttempts:   3,
		RetryDelay:    5 * time.Minute,
		StatusPage:    StatusPageAuth,
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (s *ServeSettings) decode(m *mapNode, _ func(string) string) {
	if m.str("listen", &s.Listen) && !strings.Contains(s.Listen, ":") {
		m.errorf("listen", "must be host:port such as 127.0.0.1:8001 or :8001, got %q", s.Listen)
	}
	m.enum("auth", &s.Auth, AuthRequired, AuthNone)
	for _, k := range []struct {
		key string
		dst *string
	}{{"user_env", &s.UserEnv}, {"password_env", &s.PasswordEnv}} {
		if m.str(k.key, k.dst) && !envName.MatchString(*k.dst) {
			m.errorf(k.key, "must name an environment variable (letters, digits, _), got %q", *k.dst)
		}
	}
	if m.duration("token_ttl", &s.TokenTTL) && s.TokenTTL < 2*time.Minute {
		// Airbyte's SDK renews a token that expires within a minute: a
		// shorter lifetime would cost a token request per API call.
		m.errorf("token_ttl", "must be at least 2m, got %s", s.TokenTTL)
	}
	m.nonNegativeDuration("shutdown_grace", &s.ShutdownGrace)
	m.integer("job_attempts", &s.JobAttempts, 1, 100)
	m.duration("retry_delay", &s.RetryDelay)
	m.enum("status_page", &s.StatusPage, StatusPageAuth, StatusPagePublic)
	m.integer("max_jobs", &s.MaxJobs, 0, 10000)
}

// nonNegativeDuration is duration that also accepts 0.
func (m *mapNode) nonNegativeDuration(key string, dst *time.Duration) bool {
	v, present, ok := m.scalar(key)
	if !ok {
		return present
	}
	if strings.TrimSpace(v.Value) == "0" {
		*dst = 0
		return true
	}
	d, err := time.ParseDuration(strings.TrimSpace(v.Value))
	switch {
	case err != nil:
		m.f.errorAt(v, m.key(key), "must be a duration such as 0s, 30s or 5m, got %q", v.Value)
	case d < 0:
		m.f.errorAt(v, m.key(key), "must not be negative, got %s", v.Value)
	default:
		*dst = d
	}
	return true
}
