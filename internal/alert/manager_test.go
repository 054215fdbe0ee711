package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

func TestManager_BothSourcesDownPagesAtOnceAndResolvesWithTheSameDedupKey(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	if err := r.m.FailoverChanged(ctx, "connection_mysql_s3_acode", StateBackupActive, StateHalted, "backup replication stopped", nil); err != nil {
		t.Fatal(err)
	}
	pages := r.pages()
	if len(pages) != 1 || pages[0]["event_action"] != "trigger" || pages[0]["dedup_key"] != "acode/sources_unavailable/connection_mysql_s3_acode" {
		t.Fatalf("pages after halt: %v", pages)
	}
	if got := titles(r.slack()); len(got) != 1 || got[0] != "🚨 Syncs halted: connection_mysql_s3_acode - CRITICAL" {
		t.Fatalf("slack after halt: %v", got)
	}
	if hooks := r.recv.at(webhookPath); len(hooks) != 1 || hooks[0].Body["event"] != "raised" {
		t.Errorf("webhook after halt: %v", hooks)
	}

	// The health loop keeps seeing it: nothing more is sent.
	for range 6 {
		r.clock.Advance(5 * time.Minute)
		if err := r.m.FailoverChanged(ctx, "connection_mysql_s3_acode", StateHalted, StateHalted, "still down", nil); err != nil {
			t.Fatal(err)
		}
		r.evaluate(t)
	}
	if len(r.pages()) != 1 || len(r.slack()) != 1 {
		t.Fatalf("while it stayed raised: %d pages, %d slack messages; want 1 and 1", len(r.pages()), len(r.slack()))
	}

	// Recovery: resolved only after staying clear for clear_after.
	if err := r.m.FailoverChanged(ctx, "connection_mysql_s3_acode", StateHalted, StatePrimaryActive, "primary healthy", nil); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(9 * time.Minute)
	r.evaluate(t)
	if len(r.pages()) != 1 {
		t.Fatalf("resolved before clear_after: %v", r.pages())
	}
	r.clock.Advance(time.Minute)
	r.evaluate(t)
	pages = r.pages()
	if len(pages) != 2 || pages[1]["event_action"] != "resolve" || pages[1]["dedup_key"] != pages[0]["dedup_key"] {
		t.Fatalf("pages after recovery: %v", pages)
	}
	slack := r.slack()
	if len(slack) != 2 || slack[1]["color"] != "good" || !strings.Contains(slack[1]["text"].(string), "connection_mysql_s3_acode is being synced again (primary_active)") {
		t.Fatalf("slack after recovery: %v", titles(slack))
	}
	if open := r.m.Open(); len(open) != 0 {
		t.Errorf("open after resolve: %+v", open)
	}
	if got := counterValue(t, r.m, "pagerduty", "critical"); got != 2 {
		t.Errorf("acode_alerts_total{sink=pagerduty,severity=critical} = %v, want 2", got)
	}
}

func TestManager_CriticalCheckPagesOnlyAfterThirtyMinutes(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	check := func() {
		if err := r.m.CheckResult(ctx, "mysql_connectivity", "db-hsp-farmarcas.acode.com.br:3306", "critical", "connect: connection refused",
			map[string]any{"consecutive_failures": 3}); err != nil {
			t.Fatal(err)
		}
	}
	check()
	for range 5 { // 25 minutes of critical checks
		r.clock.Advance(5 * time.Minute)
		check()
	}
	if len(r.pages()) != 0 || len(r.slack()) != 1 {
		t.Fatalf("after 25 min: %d pages (want 0), %d slack (want 1)", len(r.pages()), len(r.slack()))
	}
	r.clock.Advance(5 * time.Minute)
	r.evaluate(t) // the escalation comes from the clock, not from a new check
	if p := r.pages(); len(p) != 1 || p[0]["event_action"] != "trigger" ||
		p[0]["dedup_key"] != "acode/check/mysql_connectivity/db-hsp-farmarcas.acode.com.br:3306" {
		t.Fatalf("after 30 min: pages %v", p)
	}
	check()
	r.evaluate(t)
	if len(r.pages()) != 1 || len(r.slack()) != 1 {
		t.Errorf("duplicates: %d pages, %d slack", len(r.pages()), len(r.slack()))
	}
}

func TestManager_WarningNeverPagesAndWorseSeverityNotifiesAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	raise := func(sev failure.Severity) {
		if err := r.m.Raise(ctx, Key(KindCheck, "replication_lag", "backup"), sev, Details{Title: "Replication lag", Message: "lag"}); err != nil {
			t.Fatal(err)
		}
	}
	raise(failure.Warning)
	r.clock.Advance(3 * time.Hour)
	r.evaluate(t)
	if len(r.pages()) != 0 {
		t.Fatalf("a warning paged: %v", r.pages())
	}
	r.clock.Advance(time.Minute)
	raise(failure.Critical) // within nothing: worse is told at once
	raise(failure.Warning)
	raise(failure.Critical) // back and forth between warning and critical: no more messages
	got := titles(r.slack())
	if len(got) != 2 || !strings.HasSuffix(got[0], "WARNING") || !strings.HasSuffix(got[1], "CRITICAL") {
		t.Errorf("slack: %v; want one warning, one critical", got)
	}
}

func TestManager_FlappingCheckIsThrottled(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	key := "check/mysql_connectivity/primary"
	status := func(s failure.Severity) {
		if err := r.m.CheckResult(ctx, "mysql_connectivity", "primary", s, "flap", nil); err != nil {
			t.Fatal(err)
		}
		r.evaluate(t)
	}
	// Fast flapping (5-minute health loop, every other check fails) for
	// two hours: the hysteresis keeps the condition open, one message.
	for i := range 24 {
		if i%2 == 0 {
			status("critical")
		} else {
			status("ok")
		}
		r.clock.Advance(5 * time.Minute)
	}
	if n := len(r.slack()); n != 1 {
		t.Fatalf("fast flapping sent %d slack messages, want 1: %v", n, titles(r.slack()))
	}
	// Slow flapping: critical 5 minutes, ok 15 (long enough to resolve),
	// for four hours. Unthrottled that is 12 raised and 12 resolved.
	status("ok")
	r.clock.Advance(15 * time.Minute)
	r.evaluate(t)
	for range 12 {
		status("critical")
		r.clock.Advance(5 * time.Minute)
		status("ok")
		for range 3 {
			r.clock.Advance(5 * time.Minute)
			r.evaluate(t)
		}
	}
	var raisedAt []time.Time
	for _, a := range r.slack() {
		if a["color"] == "danger" {
			raisedAt = append(raisedAt, time.Unix(int64(a["ts"].(float64)), 0))
		}
	}
	for i := 1; i < len(raisedAt); i++ {
		if gap := raisedAt[i].Sub(raisedAt[i-1]); gap < 30*time.Minute {
			t.Errorf("raised messages %s apart, want at least min_interval 30m", gap)
		}
	}
	if n := len(r.slack()); n > 12 {
		t.Errorf("slow flapping over 4h sent %d slack messages in all; throttling should keep it well under 25", n)
	}
	recs, err := r.store.Alerts(ctx, state.AlertFilter{Condition: key})
	if err != nil {
		t.Fatal(err)
	}
	suppressed := 0
	for _, rec := range recs {
		if rec.Status == state.AlertSuppressed {
			suppressed++
		}
	}
	if suppressed == 0 {
		t.Error("no suppressed notification recorded")
	}
}

func TestManager_SyncFailingPagesAfterTwoHoursAndClearsOnSuccess(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	fail := func(id int64) {
		if err := r.m.SyncEnded(ctx, SyncOutcome{Connection: "connection_mysql_s3_acode", JobID: id, Status: "failed",
			Error: "read farmarcas_si_analitico_diario: connection refused", Attempts: 3, Source: "primary"}); err != nil {
			t.Fatal(err)
		}
	}
	fail(1)
	att := r.slack()
	if len(att) != 1 || att[0]["color"] != "danger" || !strings.Contains(att[0]["text"].(string), "Job 1 of connection_mysql_s3_acode failed after 3 attempt(s)") {
		t.Fatalf("after the first failure: %v", att)
	}
	r.clock.Advance(time.Hour)
	fail(2)
	r.clock.Advance(59 * time.Minute)
	r.evaluate(t)
	if len(r.pages()) != 0 {
		t.Fatalf("paged before 2 h (the 30-minute critical rule must not apply to sync_failing): %v", r.pages())
	}
	r.clock.Advance(time.Minute)
	r.evaluate(t)
	if p := r.pages(); len(p) != 1 || p[0]["dedup_key"] != "acode/sync_failing/connection_mysql_s3_acode" {
		t.Fatalf("after 2 h: %v", p)
	}
	// A cancelled job changes nothing; a succeeded one clears it.
	if err := r.m.SyncEnded(ctx, SyncOutcome{Connection: "connection_mysql_s3_acode", JobID: 3, Status: "cancelled"}); err != nil {
		t.Fatal(err)
	}
	if err := r.m.SyncEnded(ctx, SyncOutcome{Connection: "connection_mysql_s3_acode", JobID: 4, Status: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(10 * time.Minute)
	r.evaluate(t)
	p := r.pages()
	if len(p) != 2 || p[1]["event_action"] != "resolve" || p[1]["dedup_key"] != p[0]["dedup_key"] {
		t.Fatalf("after success: %v", p)
	}
	if s := r.slack(); len(s) != 2 || !strings.Contains(s[1]["text"].(string), "Job 4 of connection_mysql_s3_acode succeeded") {
		t.Errorf("slack after success: %v", titles(s))
	}
	if got := counterValue(t, r.m, "slack", "critical"); got != 2 {
		t.Errorf("acode_alerts_total{sink=slack,severity=critical} = %v, want 2", got)
	}
}

func TestManager_RestartNeitherRepeatsNorForgets(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	if err := r.m.FailoverChanged(ctx, "c", StatePrimaryActive, StateHalted, "both down", nil); err != nil {
		t.Fatal(err)
	}
	r.restart(t)
	r.clock.Advance(5 * time.Minute)
	if err := r.m.FailoverChanged(ctx, "c", StateHalted, StateHalted, "both down", nil); err != nil {
		t.Fatal(err)
	}
	r.evaluate(t)
	if len(r.pages()) != 1 || len(r.slack()) != 1 {
		t.Fatalf("after restart: %d pages, %d slack; want nothing new", len(r.pages()), len(r.slack()))
	}
	if open := r.m.Open(); len(open) != 1 || !open[0].Paged || open[0].Key != "sources_unavailable/c" {
		t.Fatalf("open after restart: %+v", open)
	}
	if err := r.m.FailoverChanged(ctx, "c", StateHalted, StatePrimaryActive, "ok", nil); err != nil {
		t.Fatal(err)
	}
	r.restart(t)
	r.clock.Advance(10 * time.Minute)
	r.evaluate(t)
	if p := r.pages(); len(p) != 2 || p[1]["event_action"] != "resolve" {
		t.Errorf("resolve after restart: %v", p)
	}
}

func TestManager_FailedPageIsRetriedAndEverythingRecordedWithoutSecrets(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	r.recv.reply(500, "internal error")
	if err := r.m.FailoverChanged(ctx, "c", StatePrimaryActive, StateHalted, "both down", nil); err != nil {
		t.Fatal(err)
	}
	r.recv.reply(202, `{"status":"success"}`)
	r.clock.Advance(time.Minute)
	r.evaluate(t)
	r.evaluate(t)
	p := r.pages()
	if len(p) != 2 || p[1]["event_action"] != "trigger" {
		t.Fatalf("the failed trigger was not retried exactly once: %v", p)
	}
	if len(r.slack()) != 1 {
		t.Errorf("a failed chat message is not repeated: %d", len(r.slack()))
	}
	recs, err := r.store.Alerts(ctx, state.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, rec := range recs {
		statuses[rec.Sink+":"+rec.Status]++
		for _, f := range []string{rec.Error, rec.Message, rec.Title, rec.DedupKey} {
			for _, secret := range []string{"sl4ckS3cretT0ken", webhookTok, routingKey} {
				if strings.Contains(f, secret) {
					t.Errorf("record %+v holds a secret", rec)
				}
			}
		}
	}
	if statuses["pagerduty:failed"] != 1 || statuses["pagerduty:sent"] != 1 || statuses["slack:failed"] != 1 || statuses["webhook:failed"] != 1 {
		t.Errorf("records by sink and status: %v", statuses)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "alert not delivered") {
		t.Errorf("failures not logged: %s", logs)
	}
	for _, secret := range []string{"sl4ckS3cretT0ken", webhookTok, routingKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold secret %q", secret)
		}
	}
}

func TestManager_QueuedJobOutcomesAreHandledByTheLoop(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.m.Start(context.Background())
	r.m.QueueSyncEnded(SyncOutcome{Connection: "c", JobID: 7, Status: "failed", Attempts: 1})
	r.m.Stop() // drains the queue
	if s := r.slack(); len(s) != 1 || !strings.Contains(s[0]["text"].(string), "Job 7 of c failed") {
		t.Errorf("slack: %v", s)
	}
}

func TestManager_RejectsBadInput(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	if err := r.m.Raise(ctx, "x", "fatal", Details{}); err == nil {
		t.Error("severity fatal accepted")
	}
	if err := r.m.CheckResult(ctx, "c", "t", "unknown", "", nil); err == nil {
		t.Error("check status unknown accepted")
	}
	if err := r.m.Clear(ctx, "never/raised", Details{}); err != nil || len(r.recv.all()) != 0 {
		t.Errorf("Clear of an unknown condition: %v, %d requests", err, len(r.recv.all()))
	}
}
