package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Cursor is an incremental stream's position, Airbyte's per-stream state
// {cursor_field, cursor, cursor_record_count}. The syncer advances it only
// after the job's files are committed, so a failed job re-reads its rows.
type Cursor struct {
	Connection  string
	Stream      string
	Field       []string // cursor_field, a path as in Airbyte
	Value       string   // cursor, in MySQL's text form
	RecordCount int64    // cursor_record_count: rows sharing the cursor value
	UpdatedAt   time.Time
	JobID       int64 // the job that committed this position
}

// GetCursor returns the stream's cursor; ok is false before its first
// committed incremental sync.
func (s *Store) GetCursor(ctx context.Context, connection, stream string) (c Cursor, ok bool, err error) {
	var field, updated string
	err = s.db.QueryRowContext(ctx, `SELECT connection, stream, field, value, record_count, job_id, updated_at
		FROM cursors WHERE connection = ? AND stream = ?`, connection, stream).
		Scan(&c.Connection, &c.Stream, &field, &c.Value, &c.RecordCount, &c.JobID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Cursor{}, false, nil
	}
	if err != nil {
		return Cursor{}, false, fmt.Errorf("get cursor %s/%s: %w", connection, stream, err)
	}
	if err := json.Unmarshal([]byte(field), &c.Field); err != nil {
		return Cursor{}, false, fmt.Errorf("get cursor %s/%s: decode field: %w", connection, stream, err)
	}
	if c.UpdatedAt, err = parseTime(updated); err != nil {
		return Cursor{}, false, err
	}
	return c, true, nil
}

// SetCursor stores the stream's cursor, replacing the previous one.
// UpdatedAt is set by the store when zero.
func (s *Store) SetCursor(ctx context.Context, c Cursor) error {
	if c.Connection == "" || c.Stream == "" {
		return errors.New("set cursor: connection and stream are required")
	}
	field, err := json.Marshal(nonNil(c.Field))
	if err != nil {
		return fmt.Errorf("set cursor %s/%s: %w", c.Connection, c.Stream, err)
	}
	updated := c.UpdatedAt
	if updated.IsZero() {
		updated = s.clock()
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO cursors (connection, stream, field, value, record_count, job_id, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection, stream) DO UPDATE SET field = excluded.field, value = excluded.value,
			record_count = excluded.record_count, job_id = excluded.job_id, updated_at = excluded.updated_at`,
		c.Connection, c.Stream, string(field), c.Value, c.RecordCount, c.JobID, formatTime(updated))
	if err != nil {
		return fmt.Errorf("set cursor %s/%s: %w", c.Connection, c.Stream, err)
	}
	return nil
}
