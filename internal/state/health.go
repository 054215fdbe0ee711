package state

import (
	"context"
	"fmt"
	"time"
)

// HealthRecord is one health check result as kept in the history: the
// health package's Result without its live error.
type HealthRecord struct {
	ID        int64
	Check     string // mysql_connectivity, replication_lag, ...
	Target    string // what was checked: a source, connection or destination
	Status    string // ok, warning or critical
	Value     string
	Threshold string
	Message   string
	Time      time.Time
}

// schemaV2 adds the health history and the failover state machine.
const schemaV2 = `
CREATE TABLE health_results (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	check_name TEXT NOT NULL,
	target     TEXT NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('ok','warning','critical')),
	value      TEXT NOT NULL DEFAULT '',
	threshold  TEXT NOT NULL DEFAULT '',
	message    TEXT NOT NULL DEFAULT '',
	checked_at TEXT NOT NULL
);
CREATE INDEX health_results_by_check ON health_results (check_name, target, id);
CREATE INDEX health_results_by_time ON health_results (checked_at);

CREATE TABLE failover_state (
	pair               TEXT    PRIMARY KEY,
	state              TEXT    NOT NULL CHECK (state IN ('primary_active','backup_active','halted')),
	since              TEXT    NOT NULL,
	reason             TEXT    NOT NULL DEFAULT '',
	who                TEXT    NOT NULL DEFAULT '',
	manual             INTEGER NOT NULL DEFAULT 0,
	failures           INTEGER NOT NULL DEFAULT 0,
	last_class         TEXT    NOT NULL DEFAULT '',
	last_error         TEXT    NOT NULL DEFAULT '',
	first_failure_at   TEXT,
	retries            INTEGER NOT NULL DEFAULT 0,
	retry_at           TEXT,
	healthy_streak     INTEGER NOT NULL DEFAULT 0,
	backup_replicating INTEGER,
	backup_lag_seconds INTEGER,
	backup_checked_at  TEXT,
	backup_problem     TEXT    NOT NULL DEFAULT '',
	backup_unreachable TEXT    NOT NULL DEFAULT '',
	reconcile_from     TEXT,
	reconcile_to       TEXT,
	updated_at         TEXT    NOT NULL
);

CREATE TABLE failover_transitions (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	pair       TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	who        TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	class      TEXT NOT NULL DEFAULT '',
	at         TEXT NOT NULL
);
CREATE INDEX failover_transitions_by_pair ON failover_transitions (pair, id);
`

// RecordHealth appends results to the health history in one transaction.
// A zero Time is set to the store's clock.
func (s *Store) RecordHealth(ctx context.Context, recs []HealthRecord) error {
	if len(recs) == 0 {
		return nil
	}
	err := inTx(ctx, s.db, func(tx *txn) error {
		now := s.clock()
		for _, r := range recs {
			at := r.Time
			if at.IsZero() {
				at = now
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO health_results
				(check_name, target, status, value, threshold, message, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				r.Check, r.Target, r.Status, r.Value, r.Threshold, r.Message, formatTime(at)); err != nil {
				return fmt.Errorf("%s %s: %w", r.Check, r.Target, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record health results: %w", err)
	}
	return nil
}

const selectHealth = `SELECT id, check_name, target, status, value, threshold, message, checked_at FROM health_results`

// LatestHealth returns the newest result of every check and target, ordered
// by check then target.
func (s *Store) LatestHealth(ctx context.Context) ([]HealthRecord, error) {
	return s.queryHealth(ctx, selectHealth+` WHERE id IN (SELECT MAX(id) FROM health_results GROUP BY check_name, target)
		ORDER BY check_name, target`)
}

// HealthHistory returns up to limit results of one check and target, newest
// first. An empty target means every target of the check.
func (s *Store) HealthHistory(ctx context.Context, check, target string, limit int) ([]HealthRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	if target == "" {
		return s.queryHealth(ctx, selectHealth+` WHERE check_name = ? ORDER BY id DESC LIMIT ?`, check, limit)
	}
	return s.queryHealth(ctx, selectHealth+` WHERE check_name = ? AND target = ? ORDER BY id DESC LIMIT ?`, check, target, limit)
}

// PruneHealth deletes results older than before and reports how many.
func (s *Store) PruneHealth(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM health_results WHERE checked_at < ?`, formatTime(before))
	if err != nil {
		return 0, fmt.Errorf("prune health results: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune health results: %w", err)
	}
	return n, nil
}

func (s *Store) queryHealth(ctx context.Context, query string, args ...any) ([]HealthRecord, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read health results: %w", err)
	}
	defer rows.Close()
	var out []HealthRecord
	for rows.Next() {
		var (
			r  HealthRecord
			at string
		)
		if err := rows.Scan(&r.ID, &r.Check, &r.Target, &r.Status, &r.Value, &r.Threshold, &r.Message, &at); err != nil {
			return nil, fmt.Errorf("read health results: %w", err)
		}
		if r.Time, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read health results: %w", err)
	}
	return out, nil
}
