package quality

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/quality/stats"
	"github.com/acode-dev/acode/internal/schema"
)

// Source measures a stream on the MySQL side: COUNT(*) of the window the
// reads cover, before and after them, and the custom SQL rules.
type Source struct {
	db     *sql.DB
	table  schema.Table
	window mysql.ReadOptions

	wg         sync.WaitGroup
	before     int64
	beforeErr  error
	cancelLoad context.CancelFunc
}

// StartSource counts the stream's read window (the whole table, or the
// incremental cursor window) in the background while the reads begin; call
// Close when the stream ends, whatever happened.
func StartSource(ctx context.Context, db *sql.DB, table schema.Table, window mysql.ReadOptions) *Source {
	ctx, cancel := context.WithCancel(ctx)
	s := &Source{db: db, table: table, window: window, cancelLoad: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.before, s.beforeErr = s.count(ctx)
	}()
	return s
}

// Close stops the background count, if still running.
func (s *Source) Close() {
	if s == nil {
		return
	}
	s.cancelLoad()
	s.wg.Wait()
}

func (s *Source) count(ctx context.Context) (int64, error) {
	window := s.window
	window.MaxRowsPerSecond = 0
	return mysql.CountRows(ctx, s.db, s.table, mysql.Range{}, window)
}

// measure records the completeness counts and the custom SQL results.
func (s *Source) measure(ctx context.Context, st *stats.Stream, rules []config.SQLRule) {
	s.wg.Wait()
	after, err := s.count(ctx)
	switch {
	case s.beforeErr != nil:
		st.SetSource(MeasureCompleteness, stats.Measure{Error: "count before the reads: " + s.beforeErr.Error()})
	case err != nil:
		st.SetSource(MeasureCompleteness, stats.Measure{Error: "count after the reads: " + err.Error()})
	default:
		st.SetSource(MeasureCompleteness, stats.Measure{Value: float64(s.before), Extra: float64(after),
			Note: "COUNT(*) before and after the reads"})
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
