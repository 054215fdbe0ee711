package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/config"
)

// Credentials are the API's one user: basic auth for Airflow's provider up
// to 3.x, client_id/client_secret for the token endpoint of provider 4+.
type Credentials struct {
	User     string
	Password config.Secret
}

// ErrNoCredentials is returned by CredentialsFromEnv when auth is required
// and the variables are unset: serving without them would leave the job
// endpoints open.
var ErrNoCredentials = errors.New("API credentials are not set")

// CredentialsFromEnv reads the credentials from the variables the serve
// settings name. With auth none it returns empty credentials.
func CredentialsFromEnv(s config.ServeSettings, lookup func(string) (string, bool)) (Credentials, error) {
	if s.Auth == config.AuthNone {
		return Credentials{}, nil
	}
	user, _ := lookup(s.UserEnv)
	pass, _ := lookup(s.PasswordEnv)
	if user == "" || pass == "" {
		return Credentials{}, fmt.Errorf("%w: set %s and %s (the login and password of Airflow's Airbyte connection), or serve.auth: none in acode.yaml",
			ErrNoCredentials, s.UserEnv, s.PasswordEnv)
	}
	return Credentials{User: user, Password: config.Secret(pass)}, nil
}

// match compares in constant time, hashing first so that the lengths leak
// nothing either.
func (c Credentials) match(user, pass string) bool {
	u1, u2 := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(c.User))
	p1, p2 := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(c.Password.Reveal()))
	return subtle.ConstantTimeCompare(u1[:], u2[:])&subtle.ConstantTimeCompare(p1[:], p2[:]) == 1
}

// tokens are the bearer tokens handed out by the token endpoint, kept in
// memory only: a restart makes clients ask for a new one, which Airbyte's
// SDK does on a 401.
type tokens struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	expires map[string]time.Time // by sha256 of the token
}

func newTokens(ttl time.Duration, now func() time.Time) *tokens {
	return &tokens{ttl: ttl, now: now, expires: map[string]time.Time{}}
}

// issue returns a new random token.
func (t *tokens) issue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, exp := range t.expires {
		if !now.Before(exp) {
			delete(t.expires, k)
		}
	}
	t.expires[tokenKey(tok)] = now.Add(t.ttl)
	return tok, nil
}

func (t *tokens) valid(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.expires[tokenKey(tok)]
	return ok && t.now().Before(exp)
}

func tokenKey(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return string(h[:])
}

// authorized reports whether r carries the API credentials (basic auth) or
// a live bearer token. With auth none everything is authorized.
func (s *Server) authorized(r *http.Request) bool {
	if !s.authRequired {
		return true
	}
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return s.tokens.valid(strings.TrimSpace(tok))
	}
	user, pass, ok := r.BasicAuth()
	return ok && s.creds.match(user, pass)
}

// requireAuth wraps a handler of a mutating or job endpoint.
func (s *Server) requireAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if why := crossSite(r); why != "" {
			writeError(w, http.StatusForbidden, why)
			return
		}
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="acode", charset="UTF-8"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong credentials: use basic auth with the API user, or a bearer token from POST /v1/applications/token")
			return
		}
		h(w, r)
	}
}

// tokenRequest is the body of POST /v1/applications/token, form-encoded
// (Airbyte's Python SDK) or JSON (Airbyte's documentation).
type tokenRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "token request: "+err.Error())
			return
		}
		req.ClientID, req.ClientSecret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else if !decodeBody(w, r, &req) {
		return
	}
	if s.authRequired && !s.creds.match(req.ClientID, req.ClientSecret) {
		writeError(w, http.StatusUnauthorized, "wrong client_id or client_secret")
		return
	}
	tok, err := s.tokens.issue()
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(s.tokens.ttl / time.Second)})
}

// crossSite says why a request that another site's page made the browser
// send (cross-site request forgery) is refused, or "" when it is not one: a
// browser holding the API's basic-auth credentials sends them with any
// request to this host, so every authenticated endpoint checks where the
// request came from. Airflow and other clients that are not browsers send
// neither header and pass.
func crossSite(r *http.Request) string {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return "cross-site request refused"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return "cross-origin request refused"
		}
	}
	return ""
}
