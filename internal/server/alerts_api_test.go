package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// pagerReceiver stands in for PagerDuty's Events API: it keeps the
// routing key and action of every event.
type pagerReceiver struct {
	mu     sync.Mutex
	events []string
}

func (p *pagerReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
	}
	data, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(data, &ev)
	p.mu.Lock()
	p.events = append(p.events, ev.RoutingKey+":"+ev.EventAction)
	p.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"success"}`)
}

func (p *pagerReceiver) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// An open critical condition escalates on-call -> lead -> CTO; an ack
// through the real API (with the API credentials) stops it, is recorded
// with who, and holds across a restart of the alert manager.
func TestAPI_AckStopsTheEscalation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 50)
	ctx := context.Background()
	pd := &pagerReceiver{}
	recv := httptest.NewServer(pd)
	t.Cleanup(recv.Close)

	s := config.DefaultSettings(t.TempDir()).Alerts
	s.PagerDuty.EventsURL = recv.URL + "/v2/enqueue"
	setup, err := alert.FromSettings(s, func(k string) (string, bool) {
		v, ok := map[string]string{"ACODE_PAGERDUTY_ONCALL_ROUTING_KEY": "oncall",
			"ACODE_PAGERDUTY_LEAD_ROUTING_KEY": "lead", "ACODE_PAGERDUTY_CTO_ROUTING_KEY": "cto"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		now = time.Now().UTC()
	)
	cfg := setup.Config
	cfg.Store, cfg.Log = e.state, slog.New(slog.DiscardHandler)
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	m, err := alert.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	evaluate := func() {
		t.Helper()
		if err := m.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := func(when string, events ...string) {
		t.Helper()
		if got := pd.got(); !slices.Equal(got, events) {
			t.Fatalf("%s: pages %v, want %v", when, got, events)
		}
	}

	key := alert.Key(alert.KindSourcesDown, "connection_mysql_s3_acode")
	if err := m.Raise(ctx, key, failure.Critical, alert.Details{Title: "Syncs halted"}); err != nil {
		t.Fatal(err)
	}
	want("raised", "oncall:trigger")
	advance(15 * time.Minute)
	evaluate()
	want("15 minutes", "oncall:trigger", "lead:trigger")

	path := "/api/acode/alerts/" + key + "/ack"
	creds := basic(apiUser, apiPass)
	if r := e.doJSON(http.MethodPost, path, nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("ack without credentials: %d %s, want 401", r.status, r.body)
	}
	if r := e.doJSON(http.MethodPost, path, nil, func(r *http.Request) { creds(r); r.Header.Set("Sec-Fetch-Site", "cross-site") }); r.status != http.StatusForbidden {
		t.Errorf("cross-site ack: %d %s, want 403", r.status, r.body)
	}
	if r := e.doJSON(http.MethodPost, "/api/acode/alerts/check/none/ack", nil, creds); r.status != http.StatusNotFound {
		t.Errorf("ack of no open alert: %d %s, want 404", r.status, r.body)
	}
	r := e.doJSON(http.MethodPost, path, map[string]string{"by": "joao.silva"}, creds)
	var ack struct {
		Condition       string    `json:"condition"`
		AcknowledgedBy  string    `json:"acknowledged_by"`
		AcknowledgedAt  time.Time `json:"acknowledged_at"`
		EscalationLevel int       `json:"escalation_level"`
	}
	r.json(t, &ack)
	if r.status != http.StatusOK || ack.Condition != key || ack.AcknowledgedBy != "joao.silva (api:"+apiUser+")" ||
		ack.EscalationLevel != 2 || ack.AcknowledgedAt.IsZero() {
		t.Fatalf("ack: %d %s", r.status, r.body)
	}

	var list struct {
		Alerts []struct {
			Condition          string `json:"condition"`
			AcknowledgedBy     string `json:"acknowledged_by"`
			AckURL             string `json:"ack_url"`
			EscalationPriority string `json:"escalation_priority"`
			EscalationLevel    int    `json:"escalation_level"`
		}
	}
	if r := e.doJSON(http.MethodGet, "/api/acode/alerts", nil, nil); r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	} else if r.json(t, &list); len(list.Alerts) != 1 || list.Alerts[0].Condition != key || list.Alerts[0].AcknowledgedBy != ack.AcknowledgedBy ||
		list.Alerts[0].EscalationPriority != "critical" || list.Alerts[0].EscalationLevel != 2 || list.Alerts[0].AckURL != path {
		t.Errorf("list: %s", r.body)
	}

	// The CTO would be paged at 30 minutes: the ack stopped it, also for
	// a new process on the same store; the pages are acknowledged once.
	advance(time.Hour)
	evaluate()
	m2, err := alert.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	advance(time.Hour)
	if err := m2.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	want("acknowledged", "oncall:trigger", "lead:trigger", "oncall:acknowledge", "lead:acknowledge")
	recs, err := e.state.Alerts(ctx, state.AlertFilter{Condition: key})
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for _, rec := range recs {
		if rec.Event == "acknowledged" {
			logged = append(logged, rec.Sink+": "+rec.Message)
		}
	}
	if want := []string{"lead: ", "oncall: ", "api: acknowledged by joao.silva (api:" + apiUser + ")"}; !slices.Equal(logged, want) {
		t.Errorf("acknowledgements in the alert log %q, want %q", logged, want)
	}

	// Resolved: the pages opened are closed.
	if err := m2.Clear(ctx, key, alert.Details{}); err != nil {
		t.Fatal(err)
	}
	advance(s.ClearAfter)
	if err := m2.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	want("resolved", "oncall:trigger", "lead:trigger", "oncall:acknowledge", "lead:acknowledge", "oncall:resolve", "lead:resolve")

	// The key may be sent escaped, as a client library would.
	other := alert.Key(alert.KindCheck, "replication_lag", "mysql_backup")
	if err := m2.Raise(ctx, other, failure.Warning, alert.Details{}); err != nil {
		t.Fatal(err)
	}
	if r := e.doJSON(http.MethodPost, "/api/acode/alerts/check%2Freplication_lag%2Fmysql_backup/ack", nil, creds); r.status != http.StatusOK {
		t.Errorf("escaped key: %d %s", r.status, r.body)
	}
	e.assertNoSecrets()
}
