package parquet

import (
	"fmt"
	"math"
	"math/big"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/schema"
)

// kind says how a column's text value becomes Parquet values.
type kind uint8

const (
	kindInt32         kind = iota // integer text -> INT32, bounds checked
	kindInt64                     // integer text -> INT64, bounds checked
	kindUint64                    // unsigned integer text -> INT64 holding the uint64 bits
	kindDecimal32                 // decimal text -> unscaled INT32
	kindDecimal64                 // decimal text -> unscaled INT64
	kindDecimalFix                // decimal text -> unscaled two's complement, big-endian, fixed length
	kindDecimalText               // decimal text, checked, kept as STRING (precision > 38)
	kindFloat                     // FLOAT text -> FLOAT
	kindDouble                    // FLOAT/DOUBLE/DECIMAL text -> DOUBLE
	kindDate                      // "YYYY-MM-DD" -> days since epoch; zero date -> NULL
	kindDateTime                  // "YYYY-MM-DD hh:mm:ss[.f]" -> micros since epoch; zero -> NULL
	kindTime                      // "hh:mm:ss[.f]" -> micros since midnight, within one day
	kindDuration                  // "[-]hhh:mm:ss[.f]" -> signed micros (TIME's whole domain)
	kindBoolText                  // TINYINT(1) text -> BOOLEAN, true when > 0 (airbyte mode)
	kindBoolInt                   // integer text -> BOOLEAN, only 0 and 1 (override)
	kindBoolBit                   // BIT(1) raw byte -> BOOLEAN
	kindWKB                       // MySQL geometry (SRID + WKB) -> WKB bytes
	kindString                    // raw UTF-8 text -> BYTE_ARRAY STRING
	kindBytes                     // raw bytes -> BYTE_ARRAY
	kindBase64                    // raw bytes -> STRING, base64 (airbyte mode)
	kindGroupDate                 // airbyte {member0: DATE, member1: STRING}
	kindGroupDateTime             // airbyte {member0: TIMESTAMP(MICROS), member1: STRING}
	kindGroupTime                 // airbyte {member0: TIME(MICROS), member1: STRING}
)

// leaves is the number of Parquet leaf columns one table column becomes.
func (k kind) leaves() int {
	switch k {
	case kindGroupDate, kindGroupDateTime, kindGroupTime:
		return 2
	default:
		return 1
	}
}

// column is the conversion plan for one table column.
type column struct {
	name      string
	kind      kind
	leaf      int   // index of its (first) leaf column in the file
	min, max  int64 // integer bounds of the MySQL type
	scale     int   // DECIMAL scale
	precision int   // DECIMAL precision
	size      int   // FIXED_LEN_BYTE_ARRAY length for kindDecimalFix
	index     int   // the column's position in the table (Writer's per-column counters)
}

// intBounds gives the value range of a MySQL integer type, so a value that
// does not belong to the declared type is caught instead of wrapped.
func intBounds(dataType string, unsigned bool) (lo, hi int64, ok bool) {
	var bits uint
	switch dataType {
	case "tinyint":
		bits = 8
	case "smallint":
		bits = 16
	case "mediumint":
		bits = 24
	case "int", "integer":
		bits = 32
	case "bigint":
		bits = 64
	default:
		return 0, 0, false
	}
	if unsigned {
		if bits == 64 {
			return 0, math.MaxInt64, true // kindUint64 checks its own range
		}
		return 0, 1<<bits - 1, true
	}
	if bits == 64 {
		return math.MinInt64, math.MaxInt64, true
	}
	return -(1 << (bits - 1)), 1<<(bits-1) - 1, true
}

// family is the column type's family (schema.FamilyOf), as the names the
// mapping switches on.
func family(dataType string) string { return string(schema.FamilyOf(dataType)) }

func unsupported(c schema.Column) error {
	return fmt.Errorf("column %s: %w %s", c.Name, ErrUnsupportedType, c.ColumnType)
}

// exactColumn maps a column in exact mode: every data column OPTIONAL, each
// type to a Parquet type that holds every value the MySQL type can (see the
// README's table), unless ov overrides it.
//
// MySQL TIME is a signed duration of up to ±838:59:59.999999, which Parquet
// TIME (a time of day) cannot hold: it is an INT64 of microseconds, exact
// and sortable in every reader (DuckDB's to_microseconds(x) makes it an
// INTERVAL). TINYINT(1) is an integer like any TINYINT, since it holds
// -128..127; BIT(1), which holds only 0 and 1, is BOOLEAN.
func exactColumn(c schema.Column, dict bool, ov ColumnType) (column, pq.Node, error) {
	col := column{}
	var n pq.Node
	switch f := family(c.DataType); {
	case ov == TypeBoolean:
		col.kind, n = kindBoolInt, pq.Leaf(pq.BooleanType)
		if f == "bit" {
			col.kind = kindBoolBit
		}
	case ov == TypeString:
		col.kind, n = kindString, pq.String()
	case ov == TypeTime:
		col.kind, n = kindTime, pq.TimeAdjusted(pq.Microsecond, false)
	case f == "bit" && c.Precision == 1:
		col.kind, n = kindBoolBit, pq.Leaf(pq.BooleanType)
	case f == "int":
		col.min, col.max, _ = intBounds(c.DataType, c.Unsigned)
		col.kind, n = exactInt(c)
	case f == "decimal":
		return exactDecimal(c)
	case f == "float":
		col.kind, n = kindFloat, pq.Leaf(pq.FloatType)
	case f == "double":
		col.kind, n = kindDouble, pq.Leaf(pq.DoubleType)
	case f == "date":
		col.kind, n = kindDate, pq.Date()
	case f == "datetime":
		col.kind, n = kindDateTime, pq.TimestampAdjusted(pq.Microsecond, false)
	case f == "timestamp":
		col.kind, n = kindDateTime, pq.TimestampAdjusted(pq.Microsecond, true)
	case f == "time":
		col.kind, n = kindDuration, pq.Int(64)
	case f == "year":
		col.kind, col.min, col.max, n = kindInt32, 0, 9999, pq.Leaf(pq.Int32Type)
	case f == "string":
		col.kind, n = kindString, pq.String()
	case f == "binary", f == "bit":
		col.kind, n = kindBytes, pq.Leaf(pq.ByteArrayType)
	case f == "spatial":
		col.kind, n = kindWKB, pq.Leaf(pq.ByteArrayType)
	default:
		return col, nil, unsupported(c)
	}
	return col, pq.Optional(withEncoding(n, col.kind, dict)), nil
}

// exactInt picks the narrowest signed Parquet integer that holds every value
// of the MySQL type, so readers without unsigned support still read it right.
// Only BIGINT UNSIGNED needs UINT_64 (DuckDB's UBIGINT, Spark's DECIMAL(20,0)).
func exactInt(c schema.Column) (kind, pq.Node) {
	switch {
	case c.DataType == "bigint" && c.Unsigned:
		return kindUint64, pq.Uint(64)
	case c.DataType == "bigint", c.DataType == "int" && c.Unsigned, c.DataType == "integer" && c.Unsigned:
		return kindInt64, pq.Int(64)
	case c.DataType == "tinyint" && !c.Unsigned:
		return kindInt32, pq.Int(8)
	case c.DataType == "tinyint", c.DataType == "smallint" && !c.Unsigned:
		return kindInt32, pq.Int(16)
	default: // smallint unsigned, mediumint, int
		return kindInt32, pq.Int(32)
	}
}

// maxReadableDecimal is the largest precision Athena, Spark and DuckDB read
// as a decimal. Past it Spark and Athena reject the column and DuckDB reads it
// as a DOUBLE whose value is wrong (seen with 1.1.x and 1.5.x).
const maxReadableDecimal = 38

// exactDecimal keeps DECIMAL(p,s) as Parquet DECIMAL(p,s) on the smallest
// physical type the format allows for p. MySQL allows p up to 65; a DECIMAL
// with p > 38 is written as a STRING with MySQL's exact text ("-1.50"), the
// only form every reader gets right; readers cast it where they can.
func exactDecimal(c schema.Column) (column, pq.Node, error) {
	p, s := c.Precision, c.Scale
	if p < 1 || p > 65 || s < 0 || s > p {
		return column{}, nil, fmt.Errorf("column %s: %w %s (precision %d, scale %d)", c.Name, ErrUnsupportedType, c.ColumnType, p, s)
	}
	col := column{scale: s, precision: p}
	var n pq.Node
	switch {
	case p <= 9:
		col.kind, n = kindDecimal32, pq.Decimal(s, p, pq.Int32Type)
	case p <= 18:
		col.kind, n = kindDecimal64, pq.Decimal(s, p, pq.Int64Type)
	case p > maxReadableDecimal:
		col.kind, n = kindDecimalText, pq.Encoded(pq.String(), &pq.Plain)
	default:
		col.kind, col.size = kindDecimalFix, decimalBytes(p)
		n = pq.Decimal(s, p, pq.FixedLenByteArrayType(col.size))
	}
	return col, pq.Optional(n), nil
}

// decimalBytes is the smallest byte length whose two's complement range holds
// every unscaled value of precision p: 2^(8n-1) > 10^p - 1.
func decimalBytes(p int) int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	for n := 1; ; n++ {
		if new(big.Int).Lsh(big.NewInt(1), uint(8*n-1)).Cmp(limit) >= 0 {
			return n
		}
	}
}

// airbyteColumn maps a column as destination-s3 0.3.23 wrote it through
// Avro: JSON integer -> INT64, number -> DOUBLE, date/time types -> a union
// group {member0: typed, member1: STRING}, binaries -> base64 STRING.
//
// Airbyte's MySQL source reads TINYINT(1) as a boolean that is true when the
// value is > 0, and GEOMETRY as the bytes the server sends (SRID + WKB),
// which the destination writes as base64; both are kept so that partitions
// already written by Airbyte read the same. Overrides apply as in exact mode.
func airbyteColumn(c schema.Column, dict bool, ov ColumnType) (column, pq.Node, error) {
	col := column{}
	var n pq.Node
	switch f := family(c.DataType); {
	case ov != "":
		return exactColumn(c, dict, ov)
	case c.IsBoolean():
		col.kind, n = kindBoolText, pq.Leaf(pq.BooleanType)
		if c.DataType == "bit" {
			col.kind = kindBoolBit
		}
	case f == "int", f == "year":
		col.min, col.max, _ = intBounds(c.DataType, c.Unsigned)
		if f == "year" {
			col.min, col.max = 0, 9999
		}
		col.kind, n = kindInt64, pq.Leaf(pq.Int64Type)
	case f == "decimal", f == "float", f == "double":
		col.kind, n = kindDouble, pq.Leaf(pq.DoubleType)
	case f == "date":
		col.kind, n = kindGroupDate, union(pq.Date())
	case f == "datetime", f == "timestamp":
		col.kind, n = kindGroupDateTime, union(pq.Timestamp(pq.Microsecond))
	case f == "time":
		col.kind, n = kindGroupTime, union(pq.Time(pq.Microsecond))
	case f == "string":
		col.kind, n = kindString, pq.String()
	case f == "binary", f == "bit", f == "spatial":
		col.kind, n = kindBase64, pq.String()
	default:
		return col, nil, unsupported(c)
	}
	if col.kind.leaves() == 1 {
		n = withEncoding(n, col.kind, dict)
	}
	return col, pq.Optional(n), nil
}

// union is how parquet-avro writes Avro's ["null", typed, "string"].
func union(typed pq.Node) pq.Node {
	return group{
		&namedField{Node: pq.Optional(typed), name: "member0"},
		&namedField{Node: pq.Optional(pq.Encoded(pq.String(), &pq.Plain)), name: "member1"},
	}
}

// withEncoding sets PLAIN on every leaf (parquet-go would default byte arrays
// to DELTA_LENGTH_BYTE_ARRAY, which older Hive/Athena readers reject), or
// RLE_DICTIONARY on string columns when dict is set: the encodings every
// Parquet reader has supported since the format's first version.
func withEncoding(n pq.Node, k kind, dict bool) pq.Node {
	if k == kindString && dict {
		return pq.Encoded(n, &pq.RLEDictionary)
	}
	return pq.Encoded(n, &pq.Plain)
}
