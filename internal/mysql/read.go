package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/schema"
)

// ReadOptions narrows and paces a ReadRange.
type ReadOptions struct {
	// CursorColumn, with CursorAfter and CursorUpTo, reads the incremental
	// window cursor > after AND cursor <= upTo; a nil bound is open. The
	// upper bound is fixed at the start of the sync (CursorMax) so that rows
	// committed during the sync are read by the next one, never lost.
	CursorColumn string
	CursorAfter  *string
	CursorUpTo   *string
	// MaxRowsPerSecond > 0 paces this read to at most that many rows a second.
	MaxRowsPerSecond int
	// Limiter, when set, paces this read together with every other read
	// sharing it (a job's max_rows_per_second).
	Limiter *RowLimiter
	// Counted, when set, gets the server's count of the rows the read's
	// query matched in its snapshot (FOUND_ROWS() right after the read, on
	// its connection): exactly the number of rows the read must have handed
	// over, whatever the source does meanwhile (the completeness check's
	// source side). It is called only after a read that ran to the end.
	//
	// The server counts the rows while it sends them, so the count costs
	// nothing; a COUNT(*) of the range in the same snapshot gives the same
	// number for a second primary-key scan (12% of the server's CPU).
	Counted func(rows int64)
	// InSnapshot, when set, runs on the read's connection right after its
	// consistent snapshot starts, before any row is read: a CDC backfill
	// takes the snapshot's binlog position there (SnapshotPosition).
	InSnapshot func(ctx context.Context, conn *sql.Conn) error
}

// ReadRange streams the rows of one range, in primary-key order, to fn. It
// reads on a dedicated connection inside a read-only consistent-snapshot
// transaction. Each row holds every column of t in table order, in MySQL's
// text form; a nil value is SQL NULL. The row and its byte slices are valid
// only during the call: they are reused for the next row, so fn must copy
// what it keeps. An error from fn stops the read and is returned as is.
func ReadRange(ctx context.Context, db *sql.DB, t schema.Table, r Range, opts ReadOptions, fn func(row [][]byte) error) (rows int64, err error) {
	query, args, err := selectRangeSQL(t, r, opts)
	if err != nil {
		return 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("read %s range %d: connect: %w", t.Name, r.Index, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
		return 0, fmt.Errorf("read %s range %d: start transaction: %w", t.Name, r.Index, err)
	}
	defer endSnapshot(ctx, conn)
	if opts.InSnapshot != nil {
		if err := opts.InSnapshot(ctx, conn); err != nil {
			return 0, fmt.Errorf("read %s range %d: %w", t.Name, r.Index, err)
		}
	}
	rd := rowReader{ncols: len(t.Columns), pace: newPacer(opts.MaxRowsPerSecond), limit: opts.Limiter, fn: fn}
	err = conn.Raw(func(dc any) error { return rd.readDriver(ctx, dc, query, args) })
	if errors.Is(err, errNoDirectRead) {
		err = rd.readSQL(ctx, conn, query, args)
	}
	var fnErr *callbackError
	if errors.As(err, &fnErr) {
		return rd.n, fnErr.err
	}
	if err != nil {
		return rd.n, fmt.Errorf("read %s range %d after %d rows: %w", t.Name, r.Index, rd.n, err)
	}
	if opts.Counted != nil {
		n, err := foundRows(ctx, conn)
		if err != nil {
			return rd.n, fmt.Errorf("read %s range %d: %w", t.Name, r.Index, err)
		}
		opts.Counted(n)
	}
	return rd.n, nil
}

// foundRows is the number of rows the server sent for the last query on
// conn (FOUND_ROWS() after a SELECT without SQL_CALC_FOUND_ROWS).
func foundRows(ctx context.Context, conn *sql.Conn) (int64, error) {
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT FOUND_ROWS()").Scan(&n); err != nil {
		return 0, fmt.Errorf("count the rows sent: %w", err)
	}
	return n, nil
}

// endSnapshot rolls the read-only transaction back, bounded in time; a
// connection that cannot answer is discarded by the pool anyway.
func endSnapshot(ctx context.Context, conn *sql.Conn) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = conn.ExecContext(rctx, "ROLLBACK")
}

// pacer holds a read to a rate, checking every tenth of a second's worth of
// rows: a token bucket whose burst is that tenth.
type pacer struct {
	rate  int64
	every int64
	start time.Time
}

func newPacer(rate int) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{rate: int64(rate), every: max(1, int64(rate)/10), start: time.Now()}
}

func (p *pacer) wait(ctx context.Context, n int64) error {
	if p == nil || n%p.every != 0 {
		return nil
	}
	due := p.start.Add(time.Duration(n * int64(time.Second) / p.rate))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// CursorMax is the largest value of column in t, as text: the upper bound
// of an incremental sync taken at its start. ok is false when the table is
// empty or the column is all NULL.
func CursorMax(ctx context.Context, db *sql.DB, t schema.Table, column string) (value string, ok bool, err error) {
	c, found := t.Column(column)
	if !found {
		return "", false, fmt.Errorf("table %s: cursor column %q not found", t.Name, column)
	}
	var v sql.NullString
	q := fmt.Sprintf("SELECT MAX(%s) FROM %s", QuoteIdent(c.Name), qualified(t))
	if err := db.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return "", false, fmt.Errorf("max of %s.%s: %w", t.Name, c.Name, err)
	}
	return v.String, v.Valid, nil
}
