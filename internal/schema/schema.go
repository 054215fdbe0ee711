// Package schema holds the description of a source table that every stage of
// the pipeline shares: the MySQL reader discovers it, the Parquet encoder maps
// it to a file schema, the manifest records its fingerprint. It has no
// dependencies so that readers and writers never import each other.
package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Column is one column as information_schema describes it. The reader hands
// values over in MySQL's text representation, so the encoder needs the exact
// declared type (ColumnType) to parse them back without loss.
type Column struct {
	Name       string // as declared, case preserved
	DataType   string // information_schema DATA_TYPE, lower case: "bigint", "decimal", "varchar"...
	ColumnType string // full COLUMN_TYPE, lower case: "bigint(20) unsigned", "tinyint(1)", "enum('a','b')"
	Nullable   bool
	Unsigned   bool
	Precision  int   // DECIMAL precision; DATETIME/TIMESTAMP/TIME fractional digits; BIT width
	Scale      int   // DECIMAL scale
	MaxLength  int64 // CHARACTER_MAXIMUM_LENGTH for strings and binaries, 0 otherwise
	Charset    string
}

// IsBoolean reports whether the column carries MySQL's boolean idiom:
// TINYINT(1) or BIT(1). Airbyte maps both to boolean and so do we.
func (c Column) IsBoolean() bool {
	return strings.HasPrefix(c.ColumnType, "tinyint(1)") || (c.DataType == "bit" && c.Precision == 1)
}

// Table is one source table (an Airbyte stream) with the key the reader
// chunks by.
type Table struct {
	Namespace     string // the MySQL database
	Name          string
	Columns       []Column
	PrimaryKey    []string // in key order; empty when the table has none
	EstimatedRows int64    // information_schema TABLE_ROWS: an estimate for progress only
}

// Column returns the column named name (case-insensitive, as MySQL compares
// column names) and whether it exists.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}

// Fingerprint is a stable digest of the column names, order and declared
// types. Two syncs with the same fingerprint wrote files with the same
// Parquet schema; a change means drift.
func (t Table) Fingerprint() string {
	h := sha256.New()
	for _, c := range t.Columns {
		fmt.Fprintf(h, "%s\x00%s\x00%t\n", c.Name, c.ColumnType, c.Nullable)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
