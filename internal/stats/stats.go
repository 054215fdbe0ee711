// Package stats gathers a stream's data-quality statistics in the same pass
// that writes its Parquet files: each read worker feeds the rows it hands the
// encoder to its own Worker (no locks on the hot path), and the workers are
// merged per stream when the reads end. Only the columns a statistic needs
// are parsed, with allocation-free parsers for MySQL's text forms; sums of
// integers and DECIMALs are exact.
//
// The merged Stream is what the manifest and the state store keep, so that
// `acode validate` can re-evaluate the rules without reading the files.
package stats

import (
	"fmt"
	"strings"

	"github.com/acode-dev/acode/internal/schema"
)

// Kind is how a column's values are summarised.
type Kind string

// Kinds of columns.
const (
	KindInteger  Kind = "integer"  // TINYINT..BIGINT (not TINYINT(1)), YEAR
	KindDecimal  Kind = "decimal"  // DECIMAL(p,s): exact sums
	KindFloat    Kind = "float"    // FLOAT, DOUBLE: float64 sums
	KindDate     Kind = "date"     // DATE
	KindDateTime Kind = "datetime" // DATETIME, TIMESTAMP
	KindBoolean  Kind = "boolean"  // TINYINT(1), BIT(1)
	KindString   Kind = "string"   // CHAR, VARCHAR, TEXT, ENUM, SET, JSON, TIME
	KindBinary   Kind = "binary"   // BINARY, VARBINARY, BLOB, BIT(n)
)

// KindOf maps a MySQL column to the kind its statistics take.
func KindOf(c schema.Column) Kind {
	if c.IsBoolean() {
		return KindBoolean
	}
	switch c.Family() {
	case schema.FamilyInteger, schema.FamilyYear:
		return KindInteger
	case schema.FamilyDecimal:
		return KindDecimal
	case schema.FamilyFloat, schema.FamilyDouble:
		return KindFloat
	case schema.FamilyDate:
		return KindDate
	case schema.FamilyDateTime, schema.FamilyTimestamp:
		return KindDateTime
	case schema.FamilyBinary, schema.FamilyBit:
		return KindBinary
	default:
		return KindString
	}
}

// Numeric reports whether sums, negatives and thresholds apply.
func (k Kind) Numeric() bool { return k == KindInteger || k == KindDecimal || k == KindFloat }

// Temporal reports whether the values are dates or date-times.
func (k Kind) Temporal() bool { return k == KindDate || k == KindDateTime }

// Spec says what to gather for one stream beyond the row count and the
// null count of every column, which are always kept. Only the columns named
// here are parsed.
type Spec struct {
	// Summarize lists columns whose min and max are kept, and for numeric
	// ones the exact sum and the count of negative values. Columns named in
	// Above, Below and Future are summarised too.
	Summarize []string
	// Distinct lists columns whose distinct values are estimated with a
	// HyperLogLog sketch (precision 14: about 0.8% standard error).
	Distinct []string
	// Unique is a key (one or more columns) whose duplicate values are
	// counted: the uniqueness check of a table without a PK constraint.
	Unique []string
	// Keys lists columns whose value set is kept in memory (64-bit hashes
	// with a row count each) for referential checks between streams.
	Keys []string
	// Above and Below list, per column, thresholds whose exceeding values
	// are counted (decimal text, e.g. "100000").
	Above map[string][]string
	Below map[string][]string
	// Future lists date columns whose values after FutureAfter
	// ("YYYY-MM-DD") are counted.
	Future      []string
	FutureAfter string
	// DailyTotals sums a numeric column per day of a date column.
	DailyTotals []DailyTotalSpec
}

// Columns lists the columns whose values the statistics read; of every
// other column only whether it is NULL matters. A reader that must decode
// values (re-reading Parquet files) can skip the rest.
func (s Spec) Columns() []string {
	out := append(append(append(append([]string{}, s.Summarize...), s.Distinct...), s.Unique...), s.Keys...)
	out = append(out, s.Future...)
	for _, m := range []map[string][]string{s.Above, s.Below} {
		for c := range m {
			out = append(out, c)
		}
	}
	for _, d := range s.DailyTotals {
		out = append(out, d.Value, d.Date)
	}
	return out
}

// DailyTotalSpec sums Value per day of Date.
type DailyTotalSpec struct {
	Value string
	Date  string
}

// Stream is the merged statistics of one stream in one job.
type Stream struct {
	Rows    int64    `json:"rows"`
	Columns []Column `json:"columns"`
	// Unique is set when Spec.Unique was: distinct keys and duplicate rows.
	Unique *Unique `json:"unique,omitempty"`
	// KeyCounts is the number of distinct values of each Spec.Keys column
	// (exact up to 64-bit hash collisions).
	KeyCounts   map[string]int64 `json:"key_counts,omitempty"`
	FutureAfter string           `json:"future_after,omitempty"`
	DailyTotals []DailyTotal     `json:"daily_totals,omitempty"`
	// Source holds what was measured on the source rather than the rows:
	// the completeness count, custom SQL rules, cross-stream checks. The
	// syncer fills it; rules read it.
	Source map[string]Measure `json:"source,omitempty"`
	// Nulled counts, per column, the values written as NULL because the
	// column's Parquet type cannot hold them (zero and partial zero
	// dates): the encoder counts them, the syncer fills this and adds them
	// to the columns' Nulls (which then count the files' NULLs), and the
	// nulled_values rule reports them.
	Nulled map[string]int64 `json:"nulled_values,omitempty"`
}

// Measure is one value measured at sync time, with a note saying how, or
// the error that prevented measuring it.
type Measure struct {
	Value float64 `json:"value"`
	Extra float64 `json:"extra,omitempty"`
	Note  string  `json:"note,omitempty"`
	Error string  `json:"error,omitempty"`
}

// Unique counts duplicates of a key.
type Unique struct {
	Key       []string `json:"key"`
	Distinct  int64    `json:"distinct"`
	Duplicate int64    `json:"duplicate_rows"`
}

// DailyTotal is the exact sum of Value per day of Date.
type DailyTotal struct {
	Value  string            `json:"value"`
	Date   string            `json:"date"`
	Totals map[string]string `json:"totals"`
}

// Column is one column's statistics. Min and Max are in MySQL's text form;
// Sum is an exact decimal for integers and DECIMALs.
type Column struct {
	Name      string           `json:"name"`
	Kind      Kind             `json:"kind"`
	Nulls     int64            `json:"nulls"`
	Min       string           `json:"min,omitempty"`
	Max       string           `json:"max,omitempty"`
	Sum       string           `json:"sum,omitempty"`
	Negatives int64            `json:"negatives,omitempty"`
	Above     map[string]int64 `json:"above,omitempty"`
	Below     map[string]int64 `json:"below,omitempty"`
	Future    int64            `json:"future,omitempty"`
	Distinct  uint64           `json:"distinct,omitempty"`
	Sketch    []byte           `json:"hll,omitempty"` // HyperLogLog, for merging across partitions
}

// Column returns the statistics of the column named name (case-insensitive).
func (s *Stream) Column(name string) (*Column, bool) {
	if s == nil {
		return nil, false
	}
	for i := range s.Columns {
		if strings.EqualFold(s.Columns[i].Name, name) {
			return &s.Columns[i], true
		}
	}
	return nil, false
}

// SetSource records a value measured on the source.
func (s *Stream) SetSource(name string, m Measure) {
	if s.Source == nil {
		s.Source = map[string]Measure{}
	}
	s.Source[name] = m
}

// columnIndex resolves names against t, case-insensitively.
func columnIndex(t schema.Table, names []string, what string) ([]int, error) {
	out := make([]int, 0, len(names))
	for _, n := range names {
		i := indexOf(t, n)
		if i < 0 {
			return nil, fmt.Errorf("%s: column %q is not in %s", what, n, t.Name)
		}
		out = append(out, i)
	}
	return out, nil
}

func indexOf(t schema.Table, name string) int {
	for i, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}
