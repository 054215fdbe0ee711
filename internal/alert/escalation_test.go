package alert

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

const (
	oncallKey = "0NCALLk3y000000000000000000000000"
	leadKey   = "LEADk3y00000000000000000000000000"
	ctoKey    = "CT0k3y000000000000000000000000000"
)

// escalationRig is a manager built from acode.yaml's default alerts
// section (the seed's matrix) with the on-call, lead and CTO PagerDuty
// services and Slack on, all local receivers.
type escalationRig struct {
	*rig
}

func newEscalationRig(t *testing.T) *escalationRig {
	t.Helper()
	recv := newReceiver(t)
	s := config.DefaultSettings(t.TempDir()).Alerts
	s.PagerDuty.EventsURL = recv.URL("/pd/v2/enqueue")
	setup, err := FromSettings(s, envOf(map[string]string{
		"ACODE_SLACK_WEBHOOK_URL":            recv.URL(slackPath),
		"ACODE_PAGERDUTY_ONCALL_ROUTING_KEY": oncallKey,
		"ACODE_PAGERDUTY_LEAD_ROUTING_KEY":   leadKey,
		"ACODE_PAGERDUTY_CTO_ROUTING_KEY":    ctoKey,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"slack", "escalation:oncall", "escalation:lead", "escalation:cto"}; !slices.Equal(setup.Active, want) {
		t.Fatalf("active sinks %v, want %v", setup.Active, want)
	}
	clock := newClock()
	cfg := setup.Config
	cfg.Now, cfg.Log = clock.Now, slog.New(slog.DiscardHandler)
	r := &rig{recv: recv, clock: clock, logs: &syncBuffer{}, cfg: cfg}
	r.store = openStore(t, t.TempDir())
	r.restart(t)
	return &escalationRig{r}
}

// paged returns, in order, "<routing key>:<action>" of every PagerDuty event.
func (r *escalationRig) paged() []string {
	var out []string
	for _, p := range r.pages() {
		who := map[string]string{oncallKey: "oncall", leadKey: "lead", ctoKey: "cto"}[p["routing_key"].(string)]
		out = append(out, who+":"+p["event_action"].(string))
	}
	return out
}

func (r *escalationRig) wantPaged(t *testing.T, when string, want ...string) {
	t.Helper()
	if got := r.paged(); !slices.Equal(got, want) {
		t.Fatalf("%s: pages %v, want %v", when, got, want)
	}
}

func TestEscalation_CriticalGoesOnCallLeadCTOEveryFifteenMinutesOnceEachAcrossRestarts(t *testing.T) {
	t.Parallel()
	r := newEscalationRig(t)
	ctx := context.Background()
	key := Key(KindCheck, "replication_lag", "mysql_backup")
	if err := r.m.Raise(ctx, key, failure.Critical, Details{Title: "Replication lag", Message: "lag 900s"}); err != nil {
		t.Fatal(err)
	}
	r.wantPaged(t, "at once", "oncall:trigger")
	if p := r.pages()[0]; p["dedup_key"] != DedupKey(key) ||
		p["payload"].(map[string]any)["custom_details"].(map[string]any)["escalation_name"] != "on-call" {
		t.Fatalf("on-call page: %v", p)
	}
	r.clock.Advance(14 * time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "after 14 minutes", "oncall:trigger")
	r.clock.Advance(time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "after 15 minutes", "oncall:trigger", "lead:trigger")

	// A new process (or a new leader) on the same store sends nothing again.
	r.restart(t)
	r.evaluate(t)
	r.clock.Advance(14 * time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "after a restart", "oncall:trigger", "lead:trigger")
	r.clock.Advance(time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "after 30 minutes", "oncall:trigger", "lead:trigger", "cto:trigger")
	r.clock.Advance(3 * time.Hour)
	r.evaluate(t)
	r.wantPaged(t, "past the last level", "oncall:trigger", "lead:trigger", "cto:trigger")
	if got := titles(r.slack()); len(got) != 1 {
		t.Errorf("slack heard the condition %d times, want once (it is no level of the default matrix): %v", len(got), got)
	}

	// Resolved: every level paged gets the resolve.
	if err := r.m.Clear(ctx, key, Details{}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(10 * time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "resolved", "oncall:trigger", "lead:trigger", "cto:trigger", "oncall:resolve", "lead:resolve", "cto:resolve")
	recs, err := r.store.Alerts(ctx, state.AlertFilter{Condition: key})
	if err != nil {
		t.Fatal(err)
	}
	var sinks []string
	for _, rec := range recs {
		if rec.Event == string(EventTrigger) && rec.Status == state.AlertSent {
			sinks = append(sinks, rec.Sink)
		}
	}
	if !slices.Equal(sinks, []string{"cto", "lead", "oncall"}) {
		t.Errorf("alert log triggers by sink %v, want cto, lead, oncall (newest first)", sinks)
	}
}

func TestEscalation_AcknowledgedOrResolvedStopsIt(t *testing.T) {
	t.Parallel()
	r := newEscalationRig(t)
	ctx := context.Background()
	acked := Key(KindCheck, "s3_reachable", "acode")
	if err := r.m.Raise(ctx, acked, failure.Critical, Details{Title: "S3 unreachable"}); err != nil {
		t.Fatal(err)
	}
	r.wantPaged(t, "at once", "oncall:trigger")
	if _, err := r.store.AckAlertCondition(ctx, acked, "joao.silva", r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r.evaluate(t)
	// The page is acknowledged on PagerDuty's side too, and the channel
	// hears who took it; both once, across a restart.
	r.wantPaged(t, "acknowledged", "oncall:trigger", "oncall:acknowledge")
	if got := titles(r.slack()); len(got) != 2 || got[1] != "✋ Acknowledged by joao.silva: S3 unreachable - CRITICAL" {
		t.Errorf("slack: %q", got)
	}
	r.restart(t)
	r.clock.Advance(2 * time.Hour)
	r.evaluate(t)
	r.wantPaged(t, "acknowledged, 2 hours later", "oncall:trigger", "oncall:acknowledge")
	if got := titles(r.slack()); len(got) != 2 {
		t.Errorf("slack after a restart: %q", got)
	}
	if c, err := r.store.AlertCondition(ctx, acked); err != nil || c.EscalationLevel != 1 || c.AckedBy != "joao.silva" {
		t.Fatalf("stored: %+v, %v", c, err)
	}

	// A condition that clears before the next level is due stops too,
	// while it waits out clear_after and once resolved.
	other := Key(KindSourcesDown, "pair")
	if err := r.m.Raise(ctx, other, failure.Critical, Details{}); err != nil {
		t.Fatal(err)
	}
	r.wantPaged(t, "second condition", "oncall:trigger", "oncall:acknowledge", "oncall:trigger")
	r.clock.Advance(10 * time.Minute)
	if err := r.m.Clear(ctx, other, Details{}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(9 * time.Minute)
	r.evaluate(t)
	r.clock.Advance(time.Hour)
	r.evaluate(t)
	r.wantPaged(t, "cleared", "oncall:trigger", "oncall:acknowledge", "oncall:trigger", "oncall:resolve")
}

func TestEscalation_WorsePriorityStartsItsPolicyAndWarningsUseMedium(t *testing.T) {
	t.Parallel()
	r := newEscalationRig(t)
	ctx := context.Background()
	key := Key(KindSyncFailing, "connection_mysql_s3_acode")
	// sync_failing is high whatever its severity: on-call at once, the
	// lead after the hour.
	if err := r.m.Raise(ctx, key, failure.Warning, Details{}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(59 * time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "high, 59 minutes", "oncall:trigger")
	r.clock.Advance(time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "high, 1 hour", "oncall:trigger", "lead:trigger")
	// Critical: the critical policy starts over from on-call.
	if err := r.m.Raise(ctx, key, failure.Critical, Details{}); err != nil {
		t.Fatal(err)
	}
	r.wantPaged(t, "became critical", "oncall:trigger", "lead:trigger", "oncall:trigger")
	r.clock.Advance(15 * time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "critical, 15 minutes", "oncall:trigger", "lead:trigger", "oncall:trigger", "lead:trigger")
	if c, _ := r.store.AlertCondition(ctx, key); c.EscalationPriority != "critical" || c.EscalationLevel != 2 {
		t.Errorf("stored escalation: %q level %d", c.EscalationPriority, c.EscalationLevel)
	}

	// A warning health check is medium: the assigned engineer's sink,
	// which is off here, so nothing pages.
	if err := r.m.Raise(ctx, Key(KindCheck, "disk", "x"), failure.Warning, Details{}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(5 * time.Hour)
	r.evaluate(t)
	r.wantPaged(t, "a warning check (medium) beside it", // only the sync_failing CTO page, at 30 minutes
		"oncall:trigger", "lead:trigger", "oncall:trigger", "lead:trigger", "cto:trigger")
}

func TestEscalation_ConfigKnowsEveryConditionKind(t *testing.T) {
	t.Parallel()
	for _, k := range []string{KindSyncFailing, KindPrimaryDown, KindSourcesDown, KindCheck, KindPasswordExpired, KindFailover} {
		if !slices.Contains(config.AlertKinds, k) {
			t.Errorf("config.AlertKinds lacks %q: alerts.escalation.priorities would refuse it", k)
		}
	}
}

// Two replicas on one store: a job on the follower raises the condition,
// the leader escalates it, and the follower raising it again neither
// notifies a level nor undoes the leader's progress.
func TestEscalation_TheLeaderEscalatesWhatAFollowerRaised(t *testing.T) {
	t.Parallel()
	r := newEscalationRig(t)
	ctx := context.Background()
	r.m.cfg.Lead = func() bool { return true }
	followerCfg := r.cfg
	followerCfg.Store, followerCfg.Lead = r.store, func() bool { return false }
	follower, err := New(ctx, followerCfg)
	if err != nil {
		t.Fatal(err)
	}
	key := Key(KindSourcesDown, "connection_mysql_s3_acode")
	if err := follower.Raise(ctx, key, failure.Critical, Details{Title: "Syncs halted"}); err != nil {
		t.Fatal(err)
	}
	r.wantPaged(t, "raised on the follower")
	r.evaluate(t) // the leader's loop
	r.wantPaged(t, "the leader's evaluation", "oncall:trigger")
	r.clock.Advance(15 * time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "15 minutes", "oncall:trigger", "lead:trigger")
	// The follower's job fails again: it holds the condition as it raised
	// it (level 0), but re-reads it first.
	r.clock.Advance(5 * time.Minute)
	if err := follower.Raise(ctx, key, failure.Critical, Details{Title: "Syncs halted", Message: "still"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.store.AlertCondition(ctx, key); c.EscalationLevel != 2 {
		t.Fatalf("the follower's raise left level %d, want the leader's 2", c.EscalationLevel)
	}
	r.clock.Advance(10 * time.Minute)
	r.evaluate(t)
	r.wantPaged(t, "30 minutes", "oncall:trigger", "lead:trigger", "cto:trigger")
	if got := titles(r.slack()); len(got) != 1 {
		t.Errorf("slack: %v, want the one raise", got)
	}
}
