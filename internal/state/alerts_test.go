package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAlerts_RecordedAndFilteredNewestFirst(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		first, err := s.RecordAlert(ctx, AlertRecord{Condition: "sync_failing/c1", Severity: "critical", Event: "raised",
			Sink: "slack", Title: "sync failing", Status: AlertSent})
		if err != nil {
			t.Fatalf("RecordAlert: %v", err)
		}
		if first.ID == 0 || !first.At.Equal(truncate(clock.Now())) {
			t.Errorf("record = %+v, want an id and the store's clock", first)
		}
		clock.Advance(time.Hour)
		if _, err := s.RecordAlert(ctx, AlertRecord{Condition: "sync_failing/c1", Severity: "critical", Event: "trigger",
			Sink: "pagerduty", DedupKey: "acode/sync_failing/c1", Status: AlertFailed, Error: "HTTP 500"}); err != nil {
			t.Fatalf("RecordAlert: %v", err)
		}
		if _, err := s.RecordAlert(ctx, AlertRecord{Condition: "check/x", Severity: "warning", Event: "raised",
			Sink: "webhook", Status: AlertSuppressed}); err != nil {
			t.Fatalf("RecordAlert: %v", err)
		}
		all, err := s.Alerts(ctx, AlertFilter{})
		if err != nil || len(all) != 3 || all[0].Condition != "check/x" {
			t.Fatalf("Alerts = %+v, %v; want 3 newest first", all, err)
		}
		recent, err := s.Alerts(ctx, AlertFilter{Since: clock.Now().Add(-time.Minute), Condition: "sync_failing/c1"})
		if err != nil || len(recent) != 1 || recent[0].Sink != "pagerduty" || recent[0].Error != "HTTP 500" || recent[0].DedupKey != "acode/sync_failing/c1" {
			t.Fatalf("Alerts(since, condition) = %+v, %v; want the pagerduty record", recent, err)
		}
		if _, err := s.RecordAlert(ctx, AlertRecord{Condition: "x", Severity: "fatal", Event: "raised", Sink: "slack", Status: AlertSent}); err == nil {
			t.Error("RecordAlert accepted severity fatal")
		}
	})
}

func TestAlertConditions_SurviveReopenAndDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		since := time.Date(2025, 8, 7, 2, 0, 0, 0, time.UTC)
		crit := since.Add(5 * time.Minute)
		c := AlertCondition{Key: "check/mysql_connectivity/primary", Severity: "critical", Since: since,
			CriticalSince: &crit, Notified: "critical", LastSentAt: &crit, Paged: true, Details: `{"message":"down"}`}
		if err := s.SaveAlertCondition(ctx, c); err != nil {
			t.Fatalf("SaveAlertCondition: %v", err)
		}
		cleared := crit.Add(time.Hour)
		c.ClearedAt = &cleared
		if err := s.SaveAlertCondition(ctx, c); err != nil {
			t.Fatalf("SaveAlertCondition (replace): %v", err)
		}
		if err := s.SaveAlertCondition(ctx, AlertCondition{Key: "a/first", Severity: "warning", Since: since}); err != nil {
			t.Fatalf("SaveAlertCondition: %v", err)
		}
		got, err := s.AlertConditions(ctx)
		if err != nil || len(got) != 2 {
			t.Fatalf("AlertConditions = %+v, %v", got, err)
		}
		if got[0].Key != "a/first" || got[0].CriticalSince != nil || got[0].Details != "{}" {
			t.Errorf("first = %+v", got[0])
		}
		g := got[1]
		if !g.Paged || g.Notified != "critical" || !g.Since.Equal(since) || g.CriticalSince == nil || !g.CriticalSince.Equal(crit) ||
			g.ClearedAt == nil || !g.ClearedAt.Equal(cleared) || g.Details != `{"message":"down"}` {
			t.Errorf("second = %+v", g)
		}
		if err := s.DeleteAlertCondition(ctx, c.Key); err != nil {
			t.Fatalf("DeleteAlertCondition: %v", err)
		}
		if err := s.DeleteAlertCondition(ctx, "never/there"); err != nil {
			t.Fatalf("DeleteAlertCondition(unknown): %v", err)
		}
		if got, _ := s.AlertConditions(ctx); len(got) != 1 {
			t.Errorf("after delete: %+v", got)
		}
	})
}

func TestScheduleFire_MissingThenSetAndReplaced(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		if _, err := s.ScheduleFire(ctx, "conn"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ScheduleFire before any = %v, want ErrNotFound", err)
		}
		at := time.Date(2025, 8, 7, 2, 0, 0, 0, time.FixedZone("BRT", -3*3600))
		for _, when := range []time.Time{at, at.Add(24 * time.Hour)} {
			if err := s.SetScheduleFire(ctx, "conn", when); err != nil {
				t.Fatalf("SetScheduleFire: %v", err)
			}
			got, err := s.ScheduleFire(ctx, "conn")
			if err != nil || !got.Equal(when) || got.Location() != time.UTC {
				t.Errorf("ScheduleFire = %v, %v; want %v in UTC", got, err, when)
			}
		}
	})
}

func TestSummaryQueries_OnlySinceAndOldestFirst(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		old := mustJob(t, s, "c_old")
		if err := s.FinishJob(ctx, old.ID, JobSucceeded, "", 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordHealth(ctx, []HealthRecord{{Check: "mysql_connectivity", Target: "p", Status: "ok"}}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(25 * time.Hour)
		since := clock.Now().Add(-24 * time.Hour)
		j1, j2 := mustJob(t, s, "c1"), mustJob(t, s, "c2")
		if err := s.RecordHealth(ctx, []HealthRecord{{Check: "mysql_connectivity", Target: "p", Status: "critical"}}); err != nil {
			t.Fatal(err)
		}
		_, err := s.UpdateFailover(ctx, "c1", FailoverState{State: "primary_active"}, func(st *FailoverState) ([]FailoverTransition, error) {
			st.State = "backup_active"
			return []FailoverTransition{{From: "primary_active", To: "backup_active", Who: "auto", Reason: "primary down"}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := s.JobsSince(ctx, since)
		if err != nil || len(jobs) != 2 || jobs[0].ID != j1.ID || jobs[1].ID != j2.ID {
			t.Errorf("JobsSince = %+v, %v; want c1 then c2", jobs, err)
		}
		hs, err := s.HealthSince(ctx, since)
		if err != nil || len(hs) != 1 || hs[0].Status != "critical" {
			t.Errorf("HealthSince = %+v, %v", hs, err)
		}
		trs, err := s.TransitionsSince(ctx, since)
		if err != nil || len(trs) != 1 || trs[0].To != "backup_active" {
			t.Errorf("TransitionsSince = %+v, %v", trs, err)
		}
		if err := s.SaveQualityReport(ctx, QualityReport{JobID: j1.ID, Connection: "c1", Stream: "s", Partition: "2025-08-08",
			Status: "committed", Score: 97.5, Warnings: 1, Report: []byte(`{"big":"json"}`)}); err != nil {
			t.Fatal(err)
		}
		qs, err := s.QualitySince(ctx, since)
		if err != nil || len(qs) != 1 || qs[0].Score != 97.5 || qs[0].Warnings != 1 || qs[0].Report != nil {
			t.Errorf("QualitySince = %+v, %v", qs, err)
		}
		if qs, _ := s.QualitySince(ctx, clock.Now().Add(time.Minute)); len(qs) != 0 {
			t.Errorf("QualitySince(future) = %+v", qs)
		}
	})
}
