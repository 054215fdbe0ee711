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

// ClaimScheduleFire records that the schedule named name fires at at, but
// only if its last fire is still last (zero: it never fired). It reports
// whether this caller won: of several processes deciding the same slot is
// due, exactly one claims it, so the slot fires once.
func (s *Store) ClaimScheduleFire(ctx context.Context, name string, last, at time.Time) (bool, error) {
	var (
		res sql.Result
		err error
	)
	if last.IsZero() {
		res, err = s.db.ExecContext(ctx, `INSERT INTO schedule_fires (name, fired_at) VALUES (?, ?)
			ON CONFLICT (name) DO NOTHING`, name, formatTime(at))
	} else {
		res, err = s.db.ExecContext(ctx, `UPDATE schedule_fires SET fired_at = ? WHERE name = ? AND fired_at = ?`,
			formatTime(at), name, formatTime(last))
	}
	if err != nil {
		return false, fmt.Errorf("claim fire of schedule %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim fire of schedule %s: %w", name, err)
	}
	return n == 1, nil
}
