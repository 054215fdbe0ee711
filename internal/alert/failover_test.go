package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

func TestFailoverDecision_StateAndAlertsBecomeConditions(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	const pair = "connection_mysql_s3_acode"
	decide := func(d PairDecision) {
		t.Helper()
		d.Pair = pair
		if err := r.m.FailoverDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
		r.evaluate(t)
	}
	keys := func() []string {
		var out []string
		for _, o := range r.m.Open() {
			if !o.Clearing {
				out = append(out, o.Key)
			}
		}
		return out
	}

	// The primary is retried with backoff: a warning, no page.
	decide(PairDecision{State: StatePrimaryActive, Alerts: []PairAlert{{Kind: "primary_retry", Severity: failure.Warning, Summary: "retry 1 of 3", Class: "connection_timeout"}}})
	if got := keys(); strings.Join(got, ",") != "failover/"+pair+"/primary_retry" {
		t.Fatalf("open after a retry: %v", got)
	}
	// The backup takes over: the retry clears, primary_unavailable is raised.
	r.clock.Advance(5 * time.Minute)
	decide(PairDecision{State: StateBackupActive, Reason: "primary_db_down", Alerts: []PairAlert{{Kind: "failover", Severity: failure.Info, Summary: "failed over"}}})
	if got := keys(); strings.Join(got, ",") != "primary_unavailable/"+pair {
		t.Fatalf("open after the failover: %v", got)
	}
	// The backup's replication breaks too: both unavailable pages at once,
	// and the same decision repeated by the 5-minute loop sends nothing new.
	for range 3 {
		r.clock.Advance(5 * time.Minute)
		decide(PairDecision{State: StateBackupActive, Alerts: []PairAlert{{Kind: "both_unavailable", Severity: failure.Critical, Summary: "both unavailable: backup lag 2h"}}})
	}
	p := r.pages()
	if len(p) != 1 || p[0]["dedup_key"] != "acode/sources_unavailable/"+pair {
		t.Fatalf("pages: %v", p)
	}
	// The backup catches up: both_unavailable clears, the backup goes on.
	decide(PairDecision{State: StateBackupActive})
	r.clock.Advance(10 * time.Minute)
	decide(PairDecision{State: StateBackupActive})
	p = r.pages()
	if len(p) < 2 || p[1]["event_action"] != "resolve" || p[1]["dedup_key"] != p[0]["dedup_key"] {
		t.Fatalf("pages after the backup recovered: %v", p)
	}
	// Failback: everything resolves; the Slack thread tells the story.
	decide(PairDecision{State: StatePrimaryActive, Alerts: []PairAlert{{Kind: "failback", Severity: failure.Info}}})
	r.clock.Advance(10 * time.Minute)
	r.evaluate(t)
	if open := r.m.Open(); len(open) != 0 {
		t.Errorf("open after failback: %+v", open)
	}
	want := []string{
		"⚠️ primary retry: " + pair + " - WARNING",
		"🚨 Primary unavailable: " + pair + " - CRITICAL",
		"🚨 Primary and backup unavailable: " + pair + " - CRITICAL",
		"✅ Resolved: primary retry: " + pair, // after clear_after
		"✅ Resolved: Primary and backup unavailable: " + pair,
		"✅ Resolved: Primary unavailable: " + pair,
	}
	if got := titles(r.slack()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("slack titles:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
