package mysql

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/acode-dev/acode/internal/schema"
)

// QuoteIdent quotes a MySQL identifier with backticks, doubling any backtick
// inside it.
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// qualified is `db`.`table`, or `table` when the namespace is empty.
func qualified(t schema.Table) string {
	if t.Namespace == "" {
		return QuoteIdent(t.Name)
	}
	return QuoteIdent(t.Namespace) + "." + QuoteIdent(t.Name)
}

func columnList(cols []schema.Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(c.Name))
	}
	return b.String()
}

// selectList is the SELECT list of a range read: every column as it is,
// except FLOAT. The text protocol prints a FLOAT with 6 significant digits
// (MariaDB sends 16777216 as "16777200"), so it is read as FLOAT * 1e0, a
// DOUBLE holding the same value exactly, printed in full, which the encoder
// rounds back to the identical FLOAT. Multiplying by 1 keeps every value,
// -0 included.
func selectList(cols []schema.Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(c.Name))
		if c.DataType == "float" {
			b.WriteString(" * 1e0")
		}
	}
	return b.String()
}

// keyColumns resolves the table's primary key to its columns.
func keyColumns(t schema.Table) ([]schema.Column, error) {
	cols := make([]schema.Column, 0, len(t.PrimaryKey))
	for _, name := range t.PrimaryKey {
		c, ok := t.Column(name)
		if !ok {
			return nil, fmt.Errorf("table %s: primary key column %q not among its columns", t.Name, name)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// placeholder is the SQL for one key value of column c. DECIMAL values are
// cast so that MySQL compares them exactly rather than as doubles.
func placeholder(c schema.Column) string {
	if c.DataType == "decimal" {
		return fmt.Sprintf("CAST(? AS DECIMAL(%d,%d))", max(c.Precision, 1), c.Scale)
	}
	return "?"
}

// keyArg converts a key value in text form to the argument that compares
// exactly with column c: integers as numbers (a quoted string would be
// compared as a double and lose precision past 2^53), binary strings as
// bytes (sent as _binary'...'), everything else as text.
func keyArg(c schema.Column, v string) (any, error) {
	switch {
	case isIntegerType(c.DataType):
		if c.Unsigned {
			u, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("key column %s: %q is not an unsigned integer", c.Name, v)
			}
			return u, nil
		}
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("key column %s: %q is not an integer", c.Name, v)
		}
		return i, nil
	case isBinaryType(c.DataType):
		return []byte(v), nil
	default:
		return v, nil
	}
}

func isIntegerType(dataType string) bool { return schema.FamilyOf(dataType) == schema.FamilyInteger }

func isBinaryType(dataType string) bool {
	f := schema.FamilyOf(dataType)
	return f == schema.FamilyBinary || f == schema.FamilyBit
}

// keyCompare builds "key > vals" (op ">") or "key <= vals" (op "<=") for a
// possibly composite key, expanded to a > ? OR (a = ? AND b > ?) form led by
// a >= ? (or a <= ?) so that every server can use a range on the PRIMARY
// key; MariaDB does not optimise row-constructor comparisons.
func keyCompare(cols []schema.Column, vals []string, op string) (string, []any, error) {
	if len(vals) != len(cols) {
		return "", nil, fmt.Errorf("range bound has %d values for a %d-column key", len(vals), len(cols))
	}
	args := make([]any, len(vals))
	for i, c := range cols {
		a, err := keyArg(c, vals[i])
		if err != nil {
			return "", nil, err
		}
		args[i] = a
	}
	strict, lead := ">", ">="
	if op == "<=" {
		strict, lead = "<", "<="
	}
	if len(cols) == 1 {
		return fmt.Sprintf("%s %s %s", QuoteIdent(cols[0].Name), op, placeholder(cols[0])), args, nil
	}
	// lead AND (c0 strict v0 OR (c0 = v0 AND (c1 strict v1 OR (... cN op vN))))
	var out []any
	sql := fmt.Sprintf("%s %s %s AND ", QuoteIdent(cols[0].Name), lead, placeholder(cols[0]))
	out = append(out, args[0])
	var b strings.Builder
	for i, c := range cols {
		if i == len(cols)-1 {
			fmt.Fprintf(&b, "%s %s %s", QuoteIdent(c.Name), op, placeholder(c))
			out = append(out, args[i])
			break
		}
		fmt.Fprintf(&b, "(%s %s %s OR (%s = %s AND ", QuoteIdent(c.Name), strict, placeholder(c), QuoteIdent(c.Name), placeholder(c))
		out = append(out, args[i], args[i])
	}
	b.WriteString(strings.Repeat("))", len(cols)-1))
	return sql + b.String(), out, nil
}

// whereClause is the WHERE for a range and the incremental cursor window,
// or "" when there is no condition.
func whereClause(t schema.Table, r Range, opts ReadOptions) (string, []any, error) {
	var conds []string
	var args []any
	if r.Lo != nil || r.Hi != nil {
		cols, err := keyColumns(t)
		if err != nil {
			return "", nil, err
		}
		if len(cols) == 0 {
			return "", nil, fmt.Errorf("table %s: range %d has bounds but the table has no primary key", t.Name, r.Index)
		}
		for _, b := range []struct {
			vals []string
			op   string
		}{{r.Lo, ">"}, {r.Hi, "<="}} {
			if b.vals == nil {
				continue
			}
			c, a, err := keyCompare(cols, b.vals, b.op)
			if err != nil {
				return "", nil, fmt.Errorf("table %s range %d: %w", t.Name, r.Index, err)
			}
			conds = append(conds, "("+c+")")
			args = append(args, a...)
		}
	}
	if opts.CursorColumn != "" {
		c, ok := t.Column(opts.CursorColumn)
		if !ok {
			return "", nil, fmt.Errorf("table %s: cursor column %q not found", t.Name, opts.CursorColumn)
		}
		for _, b := range []struct {
			v  *string
			op string
		}{{opts.CursorAfter, ">"}, {opts.CursorUpTo, "<="}} {
			if b.v == nil {
				continue
			}
			a, err := keyArg(c, *b.v)
			if err != nil {
				return "", nil, fmt.Errorf("table %s: cursor: %w", t.Name, err)
			}
			conds = append(conds, fmt.Sprintf("%s %s %s", QuoteIdent(c.Name), b.op, placeholder(c)))
			args = append(args, a)
		}
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// orderBy is the ORDER BY on the primary key, or "" without one.
func orderBy(t schema.Table) string {
	if len(t.PrimaryKey) == 0 {
		return ""
	}
	parts := make([]string, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		parts[i] = QuoteIdent(k)
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

// selectRangeSQL is the query ReadRange runs.
func selectRangeSQL(t schema.Table, r Range, opts ReadOptions) (string, []any, error) {
	where, args, err := whereClause(t, r, opts)
	if err != nil {
		return "", nil, err
	}
	return "SELECT " + selectList(t.Columns) + " FROM " + qualified(t) + where + orderBy(t), args, nil
}

// parseBig parses a decimal integer, signed or up to 2^64-1.
func parseBig(s string) (*big.Int, error) {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("%q is not an integer", s)
	}
	return v, nil
}
