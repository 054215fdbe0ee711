package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The read hot path. database/sql's Rows.Scan into sql.RawBytes costs a
// lock, a conversion and a copy of the slice header per column, and the
// driver boxes every value into a driver.Value; reading the driver's rows
// directly (sql.Conn.Raw) with NextRaw skips all of it: MySQL's text
// protocol already hands every value over as a view of the read buffer.
// drainValues and readSQL are the portable fallbacks.

// errNoDirectRead says the driver connection cannot run the query on the
// text protocol directly; the caller falls back to database/sql.
var errNoDirectRead = errors.New("direct driver read not available")

// callbackError carries an error returned by the row callback, so ReadRange
// returns it unwrapped.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

// rowReader hands each row of one result set to fn, paced.
type rowReader struct {
	ncols int
	pace  *pacer
	limit *RowLimiter
	fn    func([][]byte) error
	n     int64 // rows handed to fn
	left  int64 // rows reserved from limit and not yet handed over
}

// paced counts one more row handed over and waits as the pacer and the
// shared limiter require. Rows are reserved from the shared limiter a batch
// ahead, so a new read waits for its first batch like any other: with many
// short range reads the job still keeps to its budget.
func (rd *rowReader) paced(ctx context.Context) error {
	if rd.limit != nil {
		if rd.left == 0 {
			if err := rd.limit.take(ctx, rd.limit.batch); err != nil {
				return err
			}
			rd.left = rd.limit.batch
		}
		rd.left--
	}
	rd.n++
	return rd.pace.wait(ctx, rd.n)
}

// readDriver runs query on the driver connection dc and reads its text
// result straight from driver.Rows. When it stops early (fn failed, the
// context ended) it closes the driver connection instead of draining the
// rest of a possibly huge result set; the pool then discards it.
func (rd *rowReader) readDriver(ctx context.Context, dc any, query string, args []any) error {
	q, ok := dc.(driver.QueryerContext)
	if !ok {
		return errNoDirectRead
	}
	named, err := namedArgs(dc, args)
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, query, named)
	if errors.Is(err, driver.ErrSkip) {
		return errNoDirectRead // the driver would need a server-side prepare
	}
	if err != nil {
		return err
	}
	if len(rows.Columns()) != rd.ncols {
		rows.Close()
		return fmt.Errorf("query returned %d columns, table has %d", len(rows.Columns()), rd.ncols)
	}
	if err := rd.drain(ctx, rows); err != nil {
		if c, ok := dc.(io.Closer); ok {
			c.Close()
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !isCallback(err) {
			return ctxErr
		}
		return err
	}
	return rows.Close()
}

// rawRows is implemented by the text-protocol rows of acode's copy of
// go-sql-driver/mysql (internal/mysqldriver): rows read as views
// of the packet buffer, with no driver.Value per column.
type rawRows interface {
	NextRaw(dest [][]byte) error
}

// drain hands every row of rows to the callback, paced.
func (rd *rowReader) drain(ctx context.Context, rows driver.Rows) error {
	if raw, ok := rows.(rawRows); ok {
		return rd.drainRaw(ctx, raw)
	}
	return rd.drainValues(ctx, rows)
}

// drainRaw is the hot path: the driver's text values go to the callback as
// they are.
func (rd *rowReader) drainRaw(ctx context.Context, rows rawRows) error {
	row := make([][]byte, rd.ncols)
	for {
		if err := rows.NextRaw(row); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := rd.fn(row); err != nil {
			return &callbackError{err}
		}
		if err := rd.paced(ctx); err != nil {
			return err
		}
	}
}

// drainValues reads through driver.Rows.Next, for rows without NextRaw (a
// binary result set, an upstream driver).
func (rd *rowReader) drainValues(ctx context.Context, rows driver.Rows) error {
	vals := make([]driver.Value, rd.ncols)
	row := make([][]byte, rd.ncols)
	num := make([]byte, 0, 32*rd.ncols)
	for {
		if err := rows.Next(vals); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := rd.textRow(vals, row, num[:0]); err != nil {
			return err
		}
		if err := rd.fn(row); err != nil {
			return &callbackError{err}
		}
		if err := rd.paced(ctx); err != nil {
			return err
		}
	}
}

// textRow puts vals back into MySQL's text form in row, formatting the
// numbers the driver parsed into num, exactly as database/sql's RawBytes
// would give them.
func (rd *rowReader) textRow(vals []driver.Value, row [][]byte, num []byte) error {
	for i, v := range vals {
		start := len(num)
		switch v := v.(type) {
		case []byte:
			row[i] = v
			continue
		case nil:
			row[i] = nil
			continue
		case int64:
			num = strconv.AppendInt(num, v, 10)
		case uint64:
			num = strconv.AppendUint(num, v, 10)
		case float64:
			num = strconv.AppendFloat(num, v, 'g', -1, 64)
		case float32:
			num = strconv.AppendFloat(num, float64(v), 'g', -1, 32)
		default:
			return fmt.Errorf("column %d: driver returned %T, want text", i+1, v)
		}
		row[i] = num[start:len(num):len(num)]
	}
	return nil
}

func isCallback(err error) bool {
	var c *callbackError
	return errors.As(err, &c)
}

// namedArgs converts args as database/sql would before handing them to
// the driver.
func namedArgs(dc any, args []any) ([]driver.NamedValue, error) {
	checker, _ := dc.(driver.NamedValueChecker)
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv := driver.NamedValue{Ordinal: i + 1, Value: a}
		var err error
		if checker != nil {
			err = checker.CheckNamedValue(&nv)
		}
		if checker == nil || errors.Is(err, driver.ErrSkip) {
			nv.Value, err = driver.DefaultParameterConverter.ConvertValue(a)
		}
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		out[i] = nv
	}
	return out, nil
}

// readSQL is the database/sql path: Scan into sql.RawBytes.
func (rd *rowReader) readSQL(ctx context.Context, conn *sql.Conn, query string, args []any) error {
	// Cancelling the query's context makes the driver drop the connection
	// instead of draining the rest of an abandoned result set.
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res, err := conn.QueryContext(qctx, query, args...)
	if err != nil {
		return err
	}
	raw := make([]sql.RawBytes, rd.ncols)
	ptrs := make([]any, rd.ncols)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	row := make([][]byte, rd.ncols)
	for res.Next() {
		if err := res.Scan(ptrs...); err != nil {
			cancel()
			res.Close()
			return fmt.Errorf("scan row %d: %w", rd.n+1, err)
		}
		for i, v := range raw {
			row[i] = v
		}
		if err := rd.fn(row); err != nil {
			cancel()
			res.Close()
			return &callbackError{err}
		}
		if err := rd.paced(qctx); err != nil {
			cancel()
			res.Close()
			return err
		}
	}
	if err := res.Err(); err != nil {
		return err
	}
	return res.Close()
}
