package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHealth_HistoryLatestAndPrune(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		first := clock.Now()
		if err := s.RecordHealth(ctx, []HealthRecord{
			{Check: "mysql_connectivity", Target: "primary", Status: "ok", Value: "3ms"},
			{Check: "replication_lag", Target: "backup", Status: "ok", Value: "0s", Threshold: "warning 5m0s, critical 10m0s"},
		}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Minute)
		if err := s.RecordHealth(ctx, []HealthRecord{
			{Check: "mysql_connectivity", Target: "primary", Status: "critical", Message: "connection refused"},
		}); err != nil {
			t.Fatal(err)
		}
		latest, err := s.LatestHealth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 2 || latest[0].Check != "mysql_connectivity" || latest[0].Status != "critical" ||
			latest[0].Message != "connection refused" || !latest[0].Time.Equal(truncate(clock.Now())) ||
			latest[1].Check != "replication_lag" || latest[1].Threshold != "warning 5m0s, critical 10m0s" {
			t.Errorf("latest = %+v", latest)
		}
		hist, err := s.HealthHistory(ctx, "mysql_connectivity", "primary", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].Status != "critical" || hist[1].Status != "ok" {
			t.Errorf("history = %+v, want newest first", hist)
		}
		n, err := s.PruneHealth(ctx, first.Add(time.Minute))
		if err != nil || n != 2 {
			t.Errorf("PruneHealth = %d, %v; want the 2 first results", n, err)
		}
		if err := s.RecordHealth(ctx, []HealthRecord{{Check: "x", Target: "y", Status: "fine"}}); err == nil {
			t.Error("a status other than ok, warning, critical was stored")
		}
	})
}

func TestFailover_UpdateIsAtomicAndSurvivesReopen(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		path := bk.fresh(t)
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.FailoverState(ctx, "conn"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("state before the first step: err = %v, want ErrNotFound", err)
		}
		initial := FailoverState{State: "primary_active", Who: "auto", Reason: "initial"}
		retryAt := time.Date(2025, 8, 7, 3, 10, 0, 0, time.UTC)
		yes, lag := true, int64(2)
		st, err := s.UpdateFailover(ctx, "conn", initial, func(st *FailoverState) ([]FailoverTransition, error) {
			if st.State != "primary_active" || st.Reason != "initial" {
				t.Errorf("first step did not start from the initial state: %+v", st)
			}
			st.Failures, st.LastClass, st.RetryAt = 1, "connection_timeout", &retryAt
			st.BackupReplicating, st.BackupLagSeconds = &yes, &lag
			st.BackupUnreachable = "connection refused"
			return nil, nil
		})
		if err != nil || st.Failures != 1 {
			t.Fatalf("first step: %+v, %v", st, err)
		}
		_, err = s.UpdateFailover(ctx, "conn", initial, func(st *FailoverState) ([]FailoverTransition, error) {
			st.State, st.Reason, st.Who = "backup_active", "primary_db_down", "auto"
			return []FailoverTransition{{From: "primary_active", To: "backup_active", Who: "auto", Reason: "refused", Class: "primary_db_down"}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		_, err = s.UpdateFailover(ctx, "conn", initial, func(st *FailoverState) ([]FailoverTransition, error) {
			st.State = "halted"
			return []FailoverTransition{{From: "backup_active", To: "halted", Who: "auto"}}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("failed step: err = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		// A new process opening the file resumes exactly.
		s2, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		got, err := s2.FailoverState(ctx, "conn")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "backup_active" || got.Failures != 1 || got.LastClass != "connection_timeout" ||
			got.RetryAt == nil || !got.RetryAt.Equal(retryAt) || got.BackupReplicating == nil || !*got.BackupReplicating ||
			got.BackupLagSeconds == nil || *got.BackupLagSeconds != 2 || got.ReconcileFrom != nil ||
			got.BackupUnreachable != "connection refused" {
			t.Errorf("state after reopen = %+v", got)
		}
		trs, err := s2.FailoverTransitions(ctx, "conn", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(trs) != 1 || trs[0].To != "backup_active" || trs[0].Class != "primary_db_down" || trs[0].At.IsZero() {
			t.Errorf("transitions = %+v; the failed step's must not be kept", trs)
		}
		if _, err := s2.UpdateFailover(ctx, "other", FailoverState{State: "sideways"}, func(*FailoverState) ([]FailoverTransition, error) {
			return nil, nil
		}); err == nil {
			t.Error("an unknown state was stored")
		}
	})
}
