package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// schemaV9 adds the escalation matrix's progress to each held alert
// condition (its priority, how many levels were notified, when the last
// one was) and its acknowledgement (when, by whom), so a restarted process
// or a new leader neither notifies a level twice nor forgets an ack.
const schemaV9 = `
ALTER TABLE alert_conditions ADD COLUMN escalation_priority TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_conditions ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_conditions ADD COLUMN escalated_at TEXT;
ALTER TABLE alert_conditions ADD COLUMN acked_at TEXT;
ALTER TABLE alert_conditions ADD COLUMN acked_by TEXT NOT NULL DEFAULT '';
`

// schemaV10 remembers that an acknowledgement was passed on to the sinks
// (PagerDuty's acknowledge, the chat's "acknowledged by"), so it is told
// once across restarts and leaders.
const schemaV10 = `
ALTER TABLE alert_conditions ADD COLUMN ack_notified INTEGER NOT NULL DEFAULT 0;
`

// AlertCondition returns the held condition key, or ErrNotFound.
func (s *Store) AlertCondition(ctx context.Context, key string) (AlertCondition, error) {
	c, err := scanAlertCondition(s.db.QueryRowContext(ctx,
		`SELECT `+alertConditionColumns+` FROM alert_conditions WHERE key = ?`, key))
	if err != nil {
		return AlertCondition{}, fmt.Errorf("read alert condition %s: %w", key, err)
	}
	return c, nil
}

// AckAlertCondition records that by acknowledged the held condition key
// at at, and returns the condition. Acknowledging twice keeps the first
// ack (and returns it); a condition that is not held is ErrNotFound.
func (s *Store) AckAlertCondition(ctx context.Context, key, by string, at time.Time) (AlertCondition, error) {
	if at.IsZero() {
		at = s.clock()
	}
	_, err := s.db.ExecContext(ctx, `UPDATE alert_conditions SET acked_at = ?, acked_by = ?
		WHERE key = ? AND acked_at IS NULL`, formatTime(truncate(at)), by, key)
	if err != nil {
		return AlertCondition{}, fmt.Errorf("acknowledge alert condition %s: %w", key, err)
	}
	c, err := s.AlertCondition(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return AlertCondition{}, fmt.Errorf("acknowledge alert condition %s: %w", key, ErrNotFound)
	}
	return c, err
}

// Acknowledge is AckAlertCondition plus its line in the alert log (event
// "acknowledged", sink via: "api", "cli"), written only by the call that
// took the ack, so the API and `acode alerts ack` record it alike.
func (s *Store) Acknowledge(ctx context.Context, key, by, via string, at time.Time) (AlertCondition, error) {
	c, err := s.AckAlertCondition(ctx, key, by, at)
	if err != nil || c.AckedBy != by {
		return c, err
	}
	if _, err := s.RecordAlert(ctx, AlertRecord{Condition: key, Severity: c.Severity, Event: "acknowledged", Sink: via,
		Title: key, Message: "acknowledged by " + by, Status: AlertSent, At: *c.AckedAt}); err != nil {
		return c, fmt.Errorf("record the acknowledgement of %s: %w", key, err)
	}
	return c, nil
}
