package quality

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/stats"
)

// Source measures a stream on the MySQL side after its reads: the custom
// SQL rules. The completeness count is taken by the reads themselves, each
// range counted inside its read's snapshot (mysql.ReadOptions.Counted).
type Source struct {
	db    *sql.DB
	table schema.Table
}

// NewSource is the source side of the stream read from table.
func NewSource(db *sql.DB, table schema.Table) *Source {
	return &Source{db: db, table: table}
}

// measure records the completeness counts and the custom SQL results.
// counted < 0 means some part was not counted.
func (s *Source) measure(ctx context.Context, st *stats.Stream, rules []config.SQLRule, counted int64) {
	if counted < 0 {
		st.SetSource(MeasureCompleteness, stats.Measure{Error: "a part of the stream was read without a count (quality.count_source false, quality checks off, or an older acode)"})
	} else {
		st.SetSource(MeasureCompleteness, stats.Measure{Value: float64(counted), Extra: float64(counted),
			Note: "rows each range's read matched in its snapshot, as the server counted them"})
	}
	for _, r := range rules {
		v, err := QueryValue(ctx, s.db, r.Query)
		m := stats.Measure{Value: v, Note: "on " + s.table.Namespace}
		if err != nil {
			m = stats.Measure{Error: err.Error()}
		}
		st.SetSource(MeasureSQLPrefix+r.Name, m)
	}
}

// QueryValue runs a custom rule's query in a read-only consistent snapshot
// and returns its single value as a number (NULL and no row are 0).
func QueryValue(ctx context.Context, db *sql.DB, query string) (float64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("custom rule: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
		return 0, fmt.Errorf("custom rule: start transaction: %w", err)
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") }()
	var v sql.NullFloat64
	err = conn.QueryRowContext(ctx, query).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("custom rule: %w", err)
	}
	return v.Float64, nil
}
