package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// schemaV3 adds the alert log, the conditions the alert manager holds open
// (so a restart neither repeats nor forgets an alert), and the last fire
// time of every schedule (so missed runs fire once after downtime).
const schemaV3 = `
CREATE TABLE alerts (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	condition  TEXT NOT NULL,
	severity   TEXT NOT NULL CHECK (severity IN ('info','warning','critical')),
	event      TEXT NOT NULL,
	sink       TEXT NOT NULL,
	title      TEXT NOT NULL DEFAULT '',
	message    TEXT NOT NULL DEFAULT '',
	dedup_key  TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL CHECK (status IN ('sent','failed','suppressed')),
	error      TEXT NOT NULL DEFAULT '',
	at         TEXT NOT NULL
);
CREATE INDEX alerts_by_time ON alerts (at);
CREATE INDEX alerts_by_condition ON alerts (condition, id);

CREATE TABLE alert_conditions (
	key            TEXT    PRIMARY KEY,
	severity       TEXT    NOT NULL CHECK (severity IN ('info','warning','critical')),
	since          TEXT    NOT NULL,
	critical_since TEXT,
	cleared_at     TEXT,
	notified       TEXT    NOT NULL DEFAULT '',
	last_sent_at   TEXT,
	paged          INTEGER NOT NULL DEFAULT 0,
	details        TEXT    NOT NULL DEFAULT '{}',
	updated_at     TEXT    NOT NULL
);

CREATE TABLE schedule_fires (
	name     TEXT PRIMARY KEY,
	fired_at TEXT NOT NULL
);
`

// Alert record statuses.
const (
	AlertSent       = "sent"
	AlertFailed     = "failed"
	AlertSuppressed = "suppressed" // throttled: not sent now
)

// AlertRecord is one notification about a condition, as handed (or not) to
// one sink. The alert package builds it from values that hold no secret:
// sink endpoints and keys never reach the store.
type AlertRecord struct {
	ID        int64
	Condition string // e.g. sync_failing/connection_mysql_s3_acode
	Severity  string // info, warning or critical
	Event     string // raised, resolved, trigger (a page), resolve (a page ends)
	Sink      string // slack, pagerduty, webhook, email
	Title     string
	Message   string
	DedupKey  string
	Status    string // AlertSent, AlertFailed or AlertSuppressed
	Error     string
	At        time.Time
}

// RecordAlert appends r to the alert log and returns it with its ID and
// time (the store's clock when r.At is zero).
func (s *Store) RecordAlert(ctx context.Context, r AlertRecord) (AlertRecord, error) {
	if r.At.IsZero() {
		r.At = s.clock()
	}
	r.At = truncate(r.At)
	err := s.db.QueryRowContext(ctx, `INSERT INTO alerts
		(condition, severity, event, sink, title, message, dedup_key, status, error, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.Condition, r.Severity, r.Event, r.Sink, r.Title, r.Message, r.DedupKey, r.Status, r.Error, formatTime(r.At)).Scan(&r.ID)
	if err != nil {
		return AlertRecord{}, fmt.Errorf("record alert %s: %w", r.Condition, err)
	}
	return r, nil
}

// AlertFilter narrows Alerts. Zero fields do not filter; Limit <= 0 means
// no limit.
type AlertFilter struct {
	Since     time.Time
	Condition string
	Limit     int
}

// Alerts returns the alert log entries matching f, newest first.
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]AlertRecord, error) {
	var (
		where []string
		args  []any
	)
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, formatTime(f.Since))
	}
	if f.Condition != "" {
		where = append(where, "condition = ?")
		args = append(args, f.Condition)
	}
	q := `SELECT id, condition, severity, event, sink, title, message, dedup_key, status, error, at FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	defer rows.Close()
	var out []AlertRecord
	for rows.Next() {
		var (
			r  AlertRecord
			at string
		)
		if err := rows.Scan(&r.ID, &r.Condition, &r.Severity, &r.Event, &r.Sink, &r.Title, &r.Message,
			&r.DedupKey, &r.Status, &r.Error, &at); err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
		if r.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	return out, nil
}

// AlertCondition is a condition the alert manager holds: raised, or
// cleared but not yet resolved (hysteresis). The alert package owns the
// rules; the store only keeps the state across restarts.
type AlertCondition struct {
	Key           string
	Severity      string
	Since         time.Time  // first raised, this episode
	CriticalSince *time.Time // when it became critical; nil below critical
	ClearedAt     *time.Time // when it was cleared; nil while raised
	Notified      string     // severity the chat sinks were last told; "" when not yet
	LastSentAt    *time.Time // last notification to the chat sinks
	Paged         bool       // a page is open for it
	Details       string     // JSON of what the alert says (message, action, metrics)
	UpdatedAt     time.Time

	// The escalation matrix's progress this episode (see schemaV9).
	EscalationPriority string     // critical, high, medium or low; "" before the first level
	EscalationLevel    int        // levels notified so far
	EscalatedAt        *time.Time // when the last level was notified (or the escalation began)
	// AckedAt and AckedBy are written by AckAlertCondition only: a save
	// by the alert manager never touches them, so an ack taken by one
	// replica's API is not lost to the leader's next save.
	AckedAt *time.Time
	AckedBy string
	// AckNotified says the sinks were told of the ack (saved by the
	// manager, like the escalation's progress).
	AckNotified bool
}

// SaveAlertCondition inserts or replaces c.
func (s *Store) SaveAlertCondition(ctx context.Context, c AlertCondition) error {
	if c.Details == "" {
		c.Details = "{}"
	}
	paged := boolInt(c.Paged)
	_, err := s.db.ExecContext(ctx, `INSERT INTO alert_conditions
		(key, severity, since, critical_since, cleared_at, notified, last_sent_at, paged, details, updated_at,
		 escalation_priority, escalation_level, escalated_at, ack_notified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET severity = excluded.severity, since = excluded.since,
			critical_since = excluded.critical_since, cleared_at = excluded.cleared_at, notified = excluded.notified,
			last_sent_at = excluded.last_sent_at, paged = excluded.paged, details = excluded.details,
			updated_at = excluded.updated_at, escalation_priority = excluded.escalation_priority,
			escalation_level = excluded.escalation_level, escalated_at = excluded.escalated_at,
			ack_notified = excluded.ack_notified`,
		c.Key, c.Severity, formatTime(c.Since), formatOptTime(c.CriticalSince), formatOptTime(c.ClearedAt),
		c.Notified, formatOptTime(c.LastSentAt), paged, c.Details, formatTime(s.clock()),
		c.EscalationPriority, c.EscalationLevel, formatOptTime(c.EscalatedAt), boolInt(c.AckNotified))
	if err != nil {
		return fmt.Errorf("save alert condition %s: %w", c.Key, err)
	}
	return nil
}

// DeleteAlertCondition forgets a resolved condition; an unknown key is not
// an error.
func (s *Store) DeleteAlertCondition(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM alert_conditions WHERE key = ?`, key); err != nil {
		return fmt.Errorf("delete alert condition %s: %w", key, err)
	}
	return nil
}

// AlertConditions returns every held condition, ordered by key.
func (s *Store) AlertConditions(ctx context.Context) ([]AlertCondition, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+alertConditionColumns+` FROM alert_conditions ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("read alert conditions: %w", err)
	}
	defer rows.Close()
	var out []AlertCondition
	for rows.Next() {
		c, err := scanAlertCondition(rows)
		if err != nil {
			return nil, fmt.Errorf("read alert conditions: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alert conditions: %w", err)
	}
	return out, nil
}

const alertConditionColumns = `key, severity, since, critical_since, cleared_at, notified,
		last_sent_at, paged, details, updated_at, escalation_priority, escalation_level, escalated_at, acked_at, acked_by, ack_notified`

func scanAlertCondition(r rowScanner) (AlertCondition, error) {
	var (
		c                           AlertCondition
		since, updated              string
		critical, cleared, lastSent sql.NullString
		escalated, acked            sql.NullString
		paged, ackNotified          int
	)
	err := r.Scan(&c.Key, &c.Severity, &since, &critical, &cleared, &c.Notified, &lastSent, &paged, &c.Details, &updated,
		&c.EscalationPriority, &c.EscalationLevel, &escalated, &acked, &c.AckedBy, &ackNotified)
	if errors.Is(err, sql.ErrNoRows) {
		return AlertCondition{}, ErrNotFound
	}
	if err != nil {
		return AlertCondition{}, err
	}
	c.Paged, c.AckNotified = paged != 0, ackNotified != 0
	if c.Since, err = parseTime(since); err != nil {
		return AlertCondition{}, err
	}
	if c.UpdatedAt, err = parseTime(updated); err != nil {
		return AlertCondition{}, err
	}
	for _, f := range []struct {
		src sql.NullString
		dst **time.Time
	}{{critical, &c.CriticalSince}, {cleared, &c.ClearedAt}, {lastSent, &c.LastSentAt}, {escalated, &c.EscalatedAt}, {acked, &c.AckedAt}} {
		if *f.dst, err = parseOptTime(f.src); err != nil {
			return AlertCondition{}, err
		}
	}
	return c, nil
}
