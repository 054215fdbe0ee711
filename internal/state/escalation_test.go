package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAlertConditions_EscalationSurvivesSavesAndAckIsKeptFromSaves(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		now := truncate(clock.Now())
		c := AlertCondition{Key: "sources_unavailable/p", Severity: "critical", Since: now,
			EscalationPriority: "critical", EscalationLevel: 2, EscalatedAt: &now}
		if err := s.SaveAlertCondition(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AckAlertCondition(ctx, "no/such", "joao", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ack of an unknown condition: %v, want ErrNotFound", err)
		}
		clock.Advance(time.Minute)
		acked, err := s.AckAlertCondition(ctx, c.Key, "api:acode", time.Time{})
		if err != nil || acked.AckedAt == nil || !acked.AckedAt.Equal(truncate(clock.Now())) || acked.AckedBy != "api:acode" {
			t.Fatalf("ack = %+v, %v", acked, err)
		}
		// A later ack keeps the first; a save by the manager (which
		// does not know of the ack) keeps it too.
		if again, err := s.AckAlertCondition(ctx, c.Key, "someone-else", clock.Now().Add(time.Hour)); err != nil || again.AckedBy != "api:acode" {
			t.Fatalf("second ack = %+v, %v; want the first kept", again, err)
		}
		c.EscalationLevel = 3
		if err := s.SaveAlertCondition(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.AlertCondition(ctx, c.Key)
		if err != nil || got.EscalationLevel != 3 || got.EscalationPriority != "critical" || got.EscalatedAt == nil ||
			!got.EscalatedAt.Equal(now) || got.AckedAt == nil || got.AckedBy != "api:acode" {
			t.Fatalf("after save: %+v, %v", got, err)
		}
		if err := s.DeleteAlertCondition(ctx, c.Key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AlertCondition(ctx, c.Key); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted condition: %v, want ErrNotFound", err)
		}
	})
}
