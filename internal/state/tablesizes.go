package state

import (
	"context"
	"fmt"
	"time"
)

// schemaV11 keeps what information_schema said of each source table at one
// time (its estimated rows, data and index bytes), recorded weekly, so a
// report shows a table's growth from the server's own figures beside the
// commit-based ones. One row per source, table and time.
const schemaV11 = `
CREATE TABLE table_sizes (
	source       TEXT    NOT NULL,
	schema_name  TEXT    NOT NULL,
	table_name   TEXT    NOT NULL,
	measured_at  TEXT    NOT NULL,
	table_rows   INTEGER NOT NULL DEFAULT 0,
	data_length  INTEGER NOT NULL DEFAULT 0,
	index_length INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (source, schema_name, table_name, measured_at)
);
`

// TableSize is one measurement of a source table from information_schema
// (TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH; TABLE_ROWS is InnoDB's estimate).
type TableSize struct {
	Source      string
	Schema      string
	Table       string
	MeasuredAt  time.Time
	Rows        int64
	DataLength  int64
	IndexLength int64
}

// RecordTableSizes stores the measurements; recording the same table at
// the same time again replaces it, so a retried week is kept once.
func (s *Store) RecordTableSizes(ctx context.Context, sizes []TableSize) error {
	return inTx(ctx, s.db, func(tx *txn) error {
		for _, z := range sizes {
			at := z.MeasuredAt
			if at.IsZero() {
				at = s.clock()
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO table_sizes
				(source, schema_name, table_name, measured_at, table_rows, data_length, index_length)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (source, schema_name, table_name, measured_at) DO UPDATE SET
					table_rows = excluded.table_rows, data_length = excluded.data_length,
					index_length = excluded.index_length`,
				z.Source, z.Schema, z.Table, formatTime(at), z.Rows, z.DataLength, z.IndexLength)
			if err != nil {
				return fmt.Errorf("record size of %s.%s on %s: %w", z.Schema, z.Table, z.Source, err)
			}
		}
		return nil
	})
}

// TableSizesBetween returns the measurements taken in [from, to), by
// source, schema, table and time.
func (s *Store) TableSizesBetween(ctx context.Context, from, to time.Time) ([]TableSize, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, schema_name, table_name, measured_at,
		table_rows, data_length, index_length FROM table_sizes
		WHERE measured_at >= ? AND measured_at < ?
		ORDER BY source, schema_name, table_name, measured_at`, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("read table sizes: %w", err)
	}
	defer rows.Close()
	var out []TableSize
	for rows.Next() {
		var (
			z  TableSize
			at string
		)
		if err := rows.Scan(&z.Source, &z.Schema, &z.Table, &at, &z.Rows, &z.DataLength, &z.IndexLength); err != nil {
			return nil, fmt.Errorf("read table sizes: %w", err)
		}
		if z.MeasuredAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	return out, rows.Err()
}
