package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"

	"github.com/acode-dev/acode/internal/schema"
)

// DefaultChunkRows is the range size PlanRanges aims at when given none.
const DefaultChunkRows = 100_000

// Range is one primary-key range of a table, read by one ReadRange call.
// Ranges from PlanRanges are contiguous, in key order, and together cover
// the whole key space: rows inserted past the maximum while a sync runs
// fall in the last range.
type Range struct {
	Index int `json:"index"`
	// Lo is the exclusive lower bound (primary-key values as text); nil
	// means from the start.
	Lo []string `json:"lo,omitempty"`
	// Hi is the inclusive upper bound; nil means to the end.
	Hi []string `json:"hi,omitempty"`
}

// PlanRanges splits t into ranges expected to hold about chunkRows rows.
// A single integer key is split arithmetically from MIN, MAX and the row
// estimate (no scan, as mydumper does); other keys by a keyset walk over
// the primary key; a table without a key is one range.
func PlanRanges(ctx context.Context, db *sql.DB, t schema.Table, chunkRows int) ([]Range, error) {
	if chunkRows <= 0 {
		chunkRows = DefaultChunkRows
	}
	cols, err := keyColumns(t)
	if err != nil {
		return nil, err
	}
	switch {
	case len(cols) == 0:
		return []Range{{Index: 0}}, nil
	case len(cols) == 1 && isIntegerType(cols[0].DataType):
		return planIntegerRanges(ctx, db, t, cols[0], chunkRows)
	default:
		return planKeysetRanges(ctx, db, t, cols, chunkRows)
	}
}

func planIntegerRanges(ctx context.Context, db *sql.DB, t schema.Table, key schema.Column, chunkRows int) ([]Range, error) {
	k := QuoteIdent(key.Name)
	var lo, hi sql.NullString
	q := fmt.Sprintf("SELECT MIN(%s), MAX(%s) FROM %s", k, k, qualified(t))
	if err := db.QueryRowContext(ctx, q).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("plan ranges of %s: %w", t.Name, err)
	}
	if !lo.Valid {
		return []Range{{Index: 0}}, nil
	}
	rows, err := estimateRows(ctx, db, t)
	if err != nil {
		return nil, err
	}
	minV, err := parseBig(lo.String)
	if err != nil {
		return nil, fmt.Errorf("plan ranges of %s: min: %w", t.Name, err)
	}
	maxV, err := parseBig(hi.String)
	if err != nil {
		return nil, fmt.Errorf("plan ranges of %s: max: %w", t.Name, err)
	}
	return splitIntegerSpan(minV, maxV, rows, int64(chunkRows)), nil
}

// splitIntegerSpan cuts [minV, maxV] into equal-width ranges, each expected
// to hold chunkRows of the rows spread over it. The first range is open
// below, the last open above.
func splitIntegerSpan(minV, maxV *big.Int, rows, chunkRows int64) []Range {
	n := big.NewInt((rows + chunkRows - 1) / chunkRows)
	span := new(big.Int).Sub(maxV, minV)
	span.Add(span, big.NewInt(1))
	if n.Cmp(span) > 0 {
		n.Set(span)
	}
	if n.Sign() <= 0 {
		n.SetInt64(1)
	}
	width := new(big.Int).Add(span, new(big.Int).Sub(n, big.NewInt(1)))
	width.Quo(width, n) // ceil(span / n)
	var out []Range
	var prev []string
	bound := new(big.Int).Set(minV)
	for i := int64(1); i < n.Int64(); i++ {
		bound.Add(bound, width)
		last := new(big.Int).Sub(bound, big.NewInt(1))
		if last.Cmp(maxV) >= 0 {
			break
		}
		hi := []string{last.String()}
		out = append(out, Range{Index: len(out), Lo: prev, Hi: hi})
		prev = hi
	}
	return append(out, Range{Index: len(out), Lo: prev})
}

// estimateRows is the table's row estimate, counted when the statistics
// say zero (a freshly loaded table).
func estimateRows(ctx context.Context, db *sql.DB, t schema.Table) (int64, error) {
	var est sql.NullInt64
	err := db.QueryRowContext(ctx,
		"SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		t.Namespace, t.Name).Scan(&est)
	if err != nil && err != sql.ErrNoRows {
		return 0, fmt.Errorf("estimate rows of %s: %w", t.Name, err)
	}
	if est.Int64 > 0 {
		return est.Int64, nil
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+qualified(t)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", t.Name, err)
	}
	return n, nil
}

// planKeysetRanges walks the key: each boundary is the chunkRows-th key
// after the previous one.
func planKeysetRanges(ctx context.Context, db *sql.DB, t schema.Table, cols []schema.Column, chunkRows int) ([]Range, error) {
	var out []Range
	var prev []string
	for {
		next, err := nextBoundary(ctx, db, t, cols, prev, chunkRows)
		if err != nil {
			return nil, fmt.Errorf("plan ranges of %s: %w", t.Name, err)
		}
		if next == nil {
			return append(out, Range{Index: len(out), Lo: prev}), nil
		}
		out = append(out, Range{Index: len(out), Lo: prev, Hi: next})
		prev = next
	}
}

func nextBoundary(ctx context.Context, db *sql.DB, t schema.Table, cols []schema.Column, after []string, chunkRows int) ([]string, error) {
	where, args, err := whereClause(t, Range{Lo: after}, ReadOptions{})
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf("SELECT %s FROM %s%s%s LIMIT 1 OFFSET %d",
		columnList(cols), qualified(t), where, orderBy(t), chunkRows-1)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	vals := make([]string, len(cols))
	for i, r := range raw {
		vals[i] = string(r)
	}
	// A key that ends the table exactly is still a valid boundary; the
	// following range is then empty until new rows arrive.
	return vals, rows.Err()
}
