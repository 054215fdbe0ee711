package parquet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/acode-dev/acode/internal/schema"
)

// ColumnType is a per-column choice of Parquet type that replaces the
// mapping's (acode.yaml sync.columns), for teams whose readers want a
// narrower meaning than the MySQL type's whole domain.
type ColumnType string

// Column types an Override may ask for.
const (
	// TypeBoolean writes an integer column (TINYINT(1) is the usual one) or
	// BIT(1) as BOOLEAN. Only 0 and 1 convert; any other value is a
	// ValueError, so the override never turns 2 into true silently.
	TypeBoolean ColumnType = "boolean"
	// TypeString writes MySQL's text of the value as a STRING: every value
	// of every non-binary type, as the server prints it (a partial zero
	// date such as "2025-00-10" included).
	TypeString ColumnType = "string"
	// TypeTime writes a TIME column as Parquet TIME(MICROS), a time of day:
	// a value outside 00:00:00..23:59:59.999999 is a ValueError.
	TypeTime ColumnType = "time"
)

// ColumnTypes lists the names an Override accepts, for config validation.
var ColumnTypes = []string{string(TypeBoolean), string(TypeString), string(TypeTime)}

// Override sets the Parquet type of one column.
type Override struct {
	Column string // as MySQL compares names: case-insensitive
	Type   ColumnType
}

// ErrBadOverride is wrapped by OverrideError.
var ErrBadOverride = errors.New("column type override")

// OverrideError is an Override NewSchema cannot apply: the column does not
// exist, or its type cannot take the asked Parquet type.
type OverrideError struct {
	Column string
	Type   ColumnType
	Reason string
}

func (e *OverrideError) Error() string {
	return fmt.Sprintf("column %s: type %q: %s", e.Column, e.Type, e.Reason)
}

func (e *OverrideError) Unwrap() error { return ErrBadOverride }

// overridesFor resolves overrides against the table's columns: one entry
// per column index.
func overridesFor(t schema.Table, overrides []Override) (map[int]ColumnType, error) {
	if len(overrides) == 0 {
		return nil, nil
	}
	out := make(map[int]ColumnType, len(overrides))
	for _, o := range overrides {
		i := columnIndex(t, o.Column)
		if i < 0 {
			return nil, &OverrideError{Column: o.Column, Type: o.Type, Reason: fmt.Sprintf("table %s has no such column", t.Name)}
		}
		c := t.Columns[i]
		if reason := overrideFits(c, o.Type); reason != "" {
			return nil, &OverrideError{Column: c.Name, Type: o.Type, Reason: reason}
		}
		out[i] = o.Type
	}
	return out, nil
}

func columnIndex(t schema.Table, name string) int {
	for i, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// overrideFits says why column c cannot take type ct, or "" when it can.
func overrideFits(c schema.Column, ct ColumnType) string {
	f := family(c.DataType)
	switch ct {
	case TypeBoolean:
		if f == "int" || (f == "bit" && c.Precision == 1) {
			return ""
		}
		return c.ColumnType + " is not an integer or BIT(1) column"
	case TypeString:
		switch f {
		case "binary", "bit", "spatial", "":
			return c.ColumnType + " holds bytes, not text; keep its default mapping"
		}
		return ""
	case TypeTime:
		if f == "time" {
			return ""
		}
		return c.ColumnType + " is not a TIME column"
	}
	return fmt.Sprintf("unknown type (want one of %s)", strings.Join(ColumnTypes, ", "))
}
