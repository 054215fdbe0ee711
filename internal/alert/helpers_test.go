package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/acode-dev/acode/internal/state"
)

// received is one request a receiver recorded.
type received struct {
	Path   string
	Header http.Header
	Raw    string
	Body   map[string]any
}

// receiver is a local HTTP server standing in for Slack, PagerDuty and a
// webhook: it records every request and answers with status and answer.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []received
	status int
	answer string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{t: t, status: http.StatusOK, answer: "ok"}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, _ := io.ReadAll(req.Body)
		rec := received{Path: req.URL.Path, Header: req.Header.Clone(), Raw: string(data)}
		if err := json.Unmarshal(data, &rec.Body); err != nil {
			t.Errorf("receiver: %s sent a body that is not a JSON object: %v: %s", req.URL.Path, err, data)
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, rec)
		status, answer := r.status, r.answer
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL(path string) string { return r.srv.URL + path }

func (r *receiver) reply(status int, answer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.answer = status, answer
}

// at returns the requests whose path starts with prefix, in order.
func (r *receiver) at(prefix string) []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, q := range r.reqs {
		if strings.HasPrefix(q.Path, prefix) {
			out = append(out, q)
		}
	}
	return out
}

func (r *receiver) all() []received { return r.at("/") }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 8, 7, 2, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T, dir string) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rig is a Manager wired to Slack (webhook), PagerDuty and a webhook, all
// at one receiver, on a fake clock, with its log captured.
type rig struct {
	m     *Manager
	recv  *receiver
	clock *fakeClock
	store *state.Store
	logs  *syncBuffer
	cfg   Config
}

const (
	slackPath   = "/slack/services/T0ACODE/B0ACODE/sl4ckS3cretT0ken"
	routingKey  = "R0UTINGKEYs3cret0000000000000000"
	webhookPath = "/hook"
	webhookTok  = "wh00kS3cret"
)

func newRig(t *testing.T, tune func(*Config)) *rig {
	t.Helper()
	recv := newReceiver(t)
	slack, err := NewSlack(SlackOptions{WebhookURL: recv.URL(slackPath), Username: "ACODE Redundancy Bot", IconEmoji: ":gear:"})
	if err != nil {
		t.Fatal(err)
	}
	pd, err := NewPagerDuty(PagerDutyOptions{RoutingKey: routingKey, EventsURL: recv.URL("/pd/v2/enqueue")})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := NewWebhook(recv.URL(webhookPath+"?token="+webhookTok), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	logs := &syncBuffer{}
	cfg := Config{
		Chat: []Sink{slack, hook}, Pagers: []Sink{pd},
		System: "ACODE Pipeline", StatusURL: "http://acode.test:8001/",
		MinInterval: 30 * time.Minute, ClearAfter: 10 * time.Minute,
		CriticalEscalation: 30 * time.Minute, SyncFailingEscalation: 2 * time.Hour,
		Now: clock.Now, Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tune != nil {
		tune(&cfg)
	}
	r := &rig{recv: recv, clock: clock, logs: logs, cfg: cfg}
	r.store = openStore(t, t.TempDir())
	r.restart(t)
	return r
}

// restart replaces the manager by a new one on the same store, as a new
// process would.
func (r *rig) restart(t *testing.T) {
	t.Helper()
	cfg := r.cfg
	cfg.Store = r.store
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
}

func (r *rig) evaluate(t *testing.T) {
	t.Helper()
	if err := r.m.Evaluate(context.Background()); err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
}

// slack returns the Slack attachments received, in order.
func (r *rig) slack() []map[string]any {
	var out []map[string]any
	for _, q := range r.recv.at("/slack/") {
		atts, _ := q.Body["attachments"].([]any)
		if len(atts) != 1 {
			continue
		}
		out = append(out, atts[0].(map[string]any))
	}
	return out
}

// pages returns the PagerDuty events received, in order.
func (r *rig) pages() []map[string]any {
	var out []map[string]any
	for _, q := range r.recv.at("/pd/") {
		out = append(out, q.Body)
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func counterValue(t *testing.T, m *Manager, sink, severity string) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.sent.WithLabelValues(sink, severity).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

func titles(atts []map[string]any) []string {
	var out []string
	for _, a := range atts {
		out = append(out, a["title"].(string))
	}
	return out
}
