package alert

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
)

// legacyRig is the seed's matrix with on-call, lead and CTO on, plus the
// alerts section's own pagerduty (ACODE_PAGERDUTY_ROUTING_KEY) that the
// old critical_escalation timer paged; tune edits the settings.
func legacyRig(t *testing.T, tune func(*config.AlertSettings)) *escalationRig {
	t.Helper()
	recv := newReceiver(t)
	s := config.DefaultSettings(t.TempDir()).Alerts
	s.PagerDuty.EventsURL = recv.URL("/pd/v2/enqueue")
	if tune != nil {
		tune(&s)
	}
	setup, err := FromSettings(s, envOf(map[string]string{
		"ACODE_PAGERDUTY_ROUTING_KEY":        routingKey,
		"ACODE_PAGERDUTY_ONCALL_ROUTING_KEY": oncallKey,
		"ACODE_PAGERDUTY_LEAD_ROUTING_KEY":   leadKey,
		"ACODE_PAGERDUTY_CTO_ROUTING_KEY":    ctoKey,
	}))
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	cfg := setup.Config
	cfg.Now, cfg.Log = clock.Now, slog.New(slog.DiscardHandler)
	r := &rig{recv: recv, clock: clock, logs: &syncBuffer{}, cfg: cfg}
	r.store = openStore(t, t.TempDir())
	r.restart(t)
	return &escalationRig{r}
}

// legacyPaged is paged() with the section's own pagerduty named "legacy".
func (r *escalationRig) legacyPaged() []string {
	var out []string
	for _, p := range r.pages() {
		who := map[string]string{oncallKey: "oncall", leadKey: "lead", ctoKey: "cto", routingKey: "legacy"}[p["routing_key"].(string)]
		out = append(out, who+":"+p["event_action"].(string))
	}
	return out
}

// run moves the clock by step until total and evaluates each time.
func (r *escalationRig) run(t *testing.T, total, step time.Duration) {
	t.Helper()
	for d := time.Duration(0); d < total; d += step {
		r.clock.Advance(step)
		r.evaluate(t)
	}
}

// The old critical_escalation (here 20 minutes) is a place in the
// matrix: the legacy pager is paged once, 20 minutes in, between the lead
// (15) and the CTO (30), who keep their times; every level pages exactly
// once over three hours and is resolved once.
func TestEscalation_OldCriticalEscalationPagesThroughTheMatrixOncePerLevel(t *testing.T) {
	t.Parallel()
	r := legacyRig(t, func(s *config.AlertSettings) { s.CriticalEscalation = 20 * time.Minute })
	ctx := context.Background()
	key := Key(KindCheck, "replication_lag", "mysql_backup")
	if err := r.m.Raise(ctx, key, failure.Critical, Details{Title: "Replication lag"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"oncall:trigger"}
	check := func(at time.Duration, add ...string) {
		t.Helper()
		r.run(t, at, time.Minute)
		want = append(want, add...)
		if got := r.legacyPaged(); !slices.Equal(got, want) {
			t.Fatalf("pages %v, want %v", got, want)
		}
	}
	check(14 * time.Minute)
	check(time.Minute, "lead:trigger")
	check(4 * time.Minute)
	check(time.Minute, "legacy:trigger")
	check(9 * time.Minute)
	check(time.Minute, "cto:trigger")
	check(3 * time.Hour)
	if err := r.m.Clear(ctx, key, Details{}); err != nil {
		t.Fatal(err)
	}
	check(10*time.Minute, "oncall:resolve", "lead:resolve", "legacy:resolve", "cto:resolve")
}

// A level that names the section's pagerduty pages it; the old timer no
// longer pages it again at critical_escalation (30 minutes).
func TestEscalation_APagerALevelNamesIsPagedByThatLevelOnly(t *testing.T) {
	t.Parallel()
	r := legacyRig(t, func(s *config.AlertSettings) {
		pol := &s.Escalation.Policies[0]
		pol.Levels = slices.Clone(pol.Levels)
		pol.Levels[1].Sinks = []string{"lead", "pagerduty"}
	})
	ctx := context.Background()
	key := Key(KindCheck, "s3_reachable", "acode")
	if err := r.m.Raise(ctx, key, failure.Critical, Details{Title: "S3 unreachable"}); err != nil {
		t.Fatal(err)
	}
	r.run(t, 3*time.Hour, time.Minute)
	if got, want := r.legacyPaged(), []string{"oncall:trigger", "lead:trigger", "legacy:trigger", "cto:trigger"}; !slices.Equal(got, want) {
		t.Errorf("pages over 3 hours %v, want %v", got, want)
	}
}

// Without a matrix (a Config built by hand), the old rules hold through
// it: both sources down page at once, failing syncs after
// sync_failing_escalation, other critical conditions after
// critical_escalation, once each.
func TestLegacyPagers_PlacedWhereTheOldTimerPaged(t *testing.T) {
	t.Parallel()
	pd, err := NewPagerDuty(PagerDutyOptions{RoutingKey: routingKey, EventsURL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	e := legacyPagers(nil, []Sink{pd}, 30*time.Minute, 2*time.Hour)
	times := func(prio, kind string) []time.Duration {
		var out []time.Duration
		var at time.Duration
		for _, l := range e.Policies[prio] {
			at += l.After
			for _, s := range l.Sinks {
				if s.hears(kind) {
					out = append(out, at)
				}
			}
		}
		return out
	}
	for _, c := range []struct {
		prio, kind string
		want       []time.Duration
	}{
		{"critical", KindSourcesDown, []time.Duration{0}},
		{"critical", KindCheck, []time.Duration{30 * time.Minute}},
		{"critical", KindSyncFailing, []time.Duration{2 * time.Hour}},
		{"high", KindSyncFailing, []time.Duration{2 * time.Hour}},
		{"medium", KindCheck, nil},
	} {
		if got := times(c.prio, c.kind); !slices.Equal(got, c.want) {
			t.Errorf("%s %s: paged at %v, want %v", c.prio, c.kind, got, c.want)
		}
	}
	if again := legacyPagers(e, []Sink{pd}, time.Minute, time.Minute); again != e {
		t.Error("a pager the matrix names was placed again")
	}
}
