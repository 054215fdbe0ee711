package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ScheduleFire returns when the schedule named name last fired, or
// ErrNotFound if it never did. The scheduler of `acode serve` keeps one per
// connection (and one per periodic task such as the daily e-mail), so that
// after downtime a missed run fires once, not once per missed slot.
func (s *Store) ScheduleFire(ctx context.Context, name string) (time.Time, error) {
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT fired_at FROM schedule_fires WHERE name = ?`, name).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("last fire of schedule %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("last fire of schedule %s: %w", name, err)
	}
	return parseTime(at)
}

// SetScheduleFire records that the schedule named name fired at at.
func (s *Store) SetScheduleFire(ctx context.Context, name string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO schedule_fires (name, fired_at) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET fired_at = excluded.fired_at`, name, formatTime(at))
	if err != nil {
		return fmt.Errorf("record fire of schedule %s: %w", name, err)
	}
	return nil
}
