package parquet

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/testenv"
)

// typeCase is one MySQL column, the values the reader hands over (nil is
// NULL) and what a user sees when reading the file: the DuckDB type and each
// value as DuckDB casts it to VARCHAR (BLOBs as hex).
type typeCase struct {
	col      schema.Column
	duckType string
	in       []any // string or nil
	want     []any // string or nil; nil slice means same as in
}

// goWants is what parquet-go's rendering gives where it differs from
// DuckDB's: DuckDB names year 0 as 1 BC and reads GeoParquet WKB as geometry.
var goWants = map[string][]any{
	"dtz": {nil, nil, nil, "0000-01-01"},
	"geo": {hexUpper(wkbPoint12), hexUpper(wkbPoint12), nil, hexUpper(wkbPoint12)},
}

func col(name, dataType, columnType string, unsigned bool, prec, scale int) schema.Column {
	return schema.Column{Name: name, DataType: dataType, ColumnType: columnType, Nullable: true,
		Unsigned: unsigned, Precision: prec, Scale: scale}
}

// exactCases covers every mapping of exact mode with its edge values; row 2
// of each column is NULL.
var exactCases = []typeCase{
	{col("ti", "tinyint", "tinyint(4)", false, 3, 0), "TINYINT", []any{"-128", "127", nil, "0"}, nil},
	{col("tiu", "tinyint", "tinyint(3) unsigned", true, 3, 0), "SMALLINT", []any{"0", "255", nil, "7"}, nil},
	{col("si", "smallint", "smallint(6)", false, 5, 0), "SMALLINT", []any{"-32768", "32767", nil, "-1"}, nil},
	{col("siu", "smallint", "smallint(5) unsigned", true, 5, 0), "INTEGER", []any{"0", "65535", nil, "1"}, nil},
	{col("mi", "mediumint", "mediumint(9)", false, 7, 0), "INTEGER", []any{"-8388608", "8388607", nil, "5"}, nil},
	{col("miu", "mediumint", "mediumint(8) unsigned", true, 8, 0), "INTEGER", []any{"0", "16777215", nil, "5"}, nil},
	{col("i", "int", "int(11)", false, 10, 0), "INTEGER", []any{"-2147483648", "2147483647", nil, "42"}, nil},
	{col("iu", "int", "int(10) unsigned", true, 10, 0), "BIGINT", []any{"0", "4294967295", nil, "42"}, nil},
	{col("bi", "bigint", "bigint(20)", false, 19, 0), "BIGINT", []any{"-9223372036854775808", "9223372036854775807", nil, "1"}, nil},
	{col("biu", "bigint", "bigint(20) unsigned", true, 20, 0), "UBIGINT", []any{"0", "18446744073709551615", nil, "9223372036854775808"}, nil},
	{col("d52", "decimal", "decimal(5,2)", false, 5, 2), "DECIMAL(5,2)", []any{"-999.99", "999.99", nil, "-0.05"}, nil},
	{col("d152", "decimal", "decimal(15,2)", false, 15, 2), "DECIMAL(15,2)", []any{"-9999999999999.99", "9999999999999.99", nil, "0.00"}, nil},
	{col("d204", "decimal", "decimal(20,4)", false, 20, 4), "DECIMAL(20,4)", []any{"-9999999999999999.9999", "9999999999999999.9999", nil, "-0.0001"}, nil},
	{col("d380", "decimal", "decimal(38,0)", false, 38, 0), "DECIMAL(38,0)",
		[]any{"-" + strings.Repeat("9", 38), strings.Repeat("9", 38), nil, "0"}, nil},
	{col("d6530", "decimal", "decimal(65,30)", false, 65, 30), "VARCHAR",
		[]any{"-" + strings.Repeat("9", 35) + "." + strings.Repeat("9", 30), strings.Repeat("9", 35) + "." + strings.Repeat("9", 30), nil, "-1.500000000000000000000000000000"}, nil},
	{col("f", "float", "float", false, 12, 0), "FLOAT", []any{"-3.40282e38", "3.40282e38", nil, "1.5e-7"}, nil},
	{col("db", "double", "double", false, 22, 0), "DOUBLE", []any{"-1.7976931348623157e308", "3.4028234663852886e38", nil, "-0"}, nil},
	{col("dt", "date", "date", false, 0, 0), "DATE", []any{"1000-01-01", "9999-12-31", nil, "0000-00-00"},
		[]any{"1000-01-01", "9999-12-31", nil, nil}},
	{col("dtm", "datetime", "datetime(6)", false, 6, 0), "TIMESTAMP",
		[]any{"1000-01-01 00:00:00.000000", "9999-12-31 23:59:59.999999", nil, "0000-00-00 00:00:00.000000"},
		[]any{"1000-01-01 00:00:00", "9999-12-31 23:59:59.999999", nil, nil}},
	{col("ts", "timestamp", "timestamp", false, 0, 0), "TIMESTAMP WITH TIME ZONE",
		[]any{"1970-01-01 00:00:01", "2038-01-19 03:14:07", nil, "2025-08-07 12:34:56"},
		[]any{"1970-01-01 00:00:01+00", "2038-01-19 03:14:07+00", nil, "2025-08-07 12:34:56+00"}},
	{col("dtz", "date", "date", false, 0, 0), "DATE", []any{"2025-00-10", "2025-01-00", nil, "0000-01-01"},
		[]any{nil, nil, nil, "0001-01-01 (BC)"}},
	{col("dtmz", "datetime", "datetime", false, 0, 0), "TIMESTAMP", []any{"2025-00-10 12:00:00", "0000-00-00 00:00:00", nil, "1000-01-01 00:00:00"},
		[]any{nil, nil, nil, "1000-01-01 00:00:00"}},
	{col("tm", "time", "time(6)", false, 6, 0), "BIGINT", []any{"-838:59:59.000000", "838:59:59.000000", nil, "12:34:56.500000"},
		[]any{"-3020399000000", "3020399000000", nil, "45296500000"}},
	{col("tm0", "time", "time", false, 0, 0), "BIGINT", []any{"00:00:00", "-00:00:01", nil, "23:59:59"},
		[]any{"0", "-1000000", nil, "86399000000"}},
	{col("yr", "year", "year(4)", false, 0, 0), "INTEGER", []any{"1901", "2155", nil, "2025"}, nil},
	{col("flag", "tinyint", "tinyint(1)", false, 3, 0), "TINYINT", []any{"0", "1", nil, "-128"}, nil},
	{col("flagu", "tinyint", "tinyint(1) unsigned", true, 3, 0), "SMALLINT", []any{"2", "255", nil, "1"}, nil},
	{col("bit1", "bit", "bit(1)", false, 1, 0), "BOOLEAN", []any{"\x00", "\x01", nil, "\x01"}, []any{"false", "true", nil, "true"}},
	{col("bits", "bit", "bit(12)", false, 12, 0), "BLOB", []any{"\x00\x00", "\x0f\xff", nil, "\x00\x01"}, []any{"0000", "0FFF", nil, "0001"}},
	{col("cnpj", "char", "char(14)", false, 0, 0), "VARCHAR", []any{"00000000000000", "12345678000195", nil, ""}, nil},
	{col("nome", "varchar", "varchar(255)", false, 0, 0), "VARCHAR", []any{"", "Farmácia São João 💊🎉", nil, "ação\x00nul"}, nil},
	{col("obs", "text", "text", false, 0, 0), "VARCHAR", []any{"línea\nnueva", strings.Repeat("x", 70000), nil, " "}, nil},
	{col("uf", "enum", "enum('SP','RJ')", false, 0, 0), "VARCHAR", []any{"SP", "RJ", nil, ""}, nil},
	{col("tags", "set", "set('a','b')", false, 0, 0), "VARCHAR", []any{"", "a,b", nil, "a"}, nil},
	{col("doc", "json", "json", false, 0, 0), "VARCHAR", []any{`{}`, `{"a": [1, "é"]}`, nil, `null`}, nil},
	{col("bin", "binary", "binary(4)", false, 0, 0), "BLOB", []any{"\x00\x00\x00\x00", "\xff\xfe\x01\x00", nil, "abcd"}, []any{"00000000", "FFFE0100", nil, "61626364"}},
	{col("blb", "blob", "blob", false, 0, 0), "BLOB", []any{"", "\x89PNG\r\n", nil, "\xff"}, []any{"", "89504E470D0A", nil, "FF"}},
	// POINT(1 2) with SRID 4326, and SRID 0: the 4-byte SRID is dropped.
	{col("geo", "point", "point", false, 0, 0), "GEOMETRY",
		[]any{"\xe6\x10\x00\x00" + wkbPoint12, "\xe6\x10\x00\x00" + wkbPoint12, nil, "\xe6\x10\x00\x00" + wkbPoint12},
		[]any{"POINT (1 2)", "POINT (1 2)", nil, "POINT (1 2)"}},
}

// wkbPoint12 is POINT(1 2) as little-endian WKB.
const wkbPoint12 = "\x01\x01\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\xf0\x3f" + "\x00\x00\x00\x00\x00\x00\x00\x40"

func hexUpper(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) }

func casesTable(cases []typeCase) ([]schema.Column, [][][]byte) {
	var cols []schema.Column
	rows := make([][][]byte, len(cases[0].in))
	for _, c := range cases {
		cols = append(cols, c.col)
		for r, v := range c.in {
			if v == nil {
				rows[r] = append(rows[r], nil)
			} else {
				rows[r] = append(rows[r], []byte(v.(string)))
			}
		}
	}
	return cols, rows
}

func (c typeCase) expected() []any {
	if c.want != nil {
		return c.want
	}
	return c.in
}

func isFloat(duckType string) bool { return duckType == "FLOAT" || duckType == "DOUBLE" }

// TestExact_EveryTypeRoundTripsThroughDuckDBAndParquetGo writes each MySQL
// type's edge values and checks what both an independent reader (DuckDB)
// and parquet-go see: the column types and every value, exactly.
func TestExact_EveryTypeRoundTripsThroughDuckDBAndParquetGo(t *testing.T) {
	t.Parallel()
	cols, rows := casesTable(exactCases)
	s := mustSchema(t, cols, ModeExact)
	path := writeFile(t, s, DefaultOptions(), rows)

	var sel []string
	for _, c := range exactCases {
		switch c.duckType {
		case "BLOB":
			sel = append(sel, fmt.Sprintf("hex(%s) AS %s", c.col.Name, c.col.Name))
		case "GEOMETRY":
			sel = append(sel, fmt.Sprintf("%s::VARCHAR AS %s", c.col.Name, c.col.Name))
		default:
			sel = append(sel, fmt.Sprintf("%s::VARCHAR AS %s", c.col.Name, c.col.Name))
		}
	}
	file := "read_parquet(" + testenv.SQLString(path) + ", file_row_number=true)"
	res := testenv.DuckDB(t).Run(t,
		"SET TimeZone='UTC'",
		"SELECT * EXCLUDE (file_row_number) FROM "+file+" LIMIT 0",
		"SELECT "+strings.Join(sel, ", ")+", _airbyte_ab_id, _airbyte_emitted_at::VARCHAR AS emitted FROM "+file+" ORDER BY file_row_number",
	)
	types, values := res[1], res[2]

	wantCols := len(exactCases) + 2
	if len(types.Columns) != wantCols {
		t.Fatalf("DuckDB sees %d columns %v, want %d", len(types.Columns), types.Columns, wantCols)
	}
	for i, c := range exactCases {
		if types.Columns[i] != c.col.Name || types.Types[i] != c.duckType && !(c.duckType == "GEOMETRY" && strings.HasPrefix(types.Types[i], "GEOMETRY")) {
			t.Errorf("column %d: DuckDB sees %s %s, want %s %s", i, types.Columns[i], types.Types[i], c.col.Name, c.duckType)
		}
	}
	if got := types.Types[len(exactCases):]; got[0] != "VARCHAR" || got[1] != "TIMESTAMP WITH TIME ZONE" {
		t.Errorf("metadata columns typed %v", got)
	}
	if len(values.Rows) != len(rows) {
		t.Fatalf("DuckDB reads %d rows, want %d", len(values.Rows), len(rows))
	}
	ids := map[string]bool{}
	for r, row := range values.Rows {
		for _, c := range exactCases {
			if want := c.expected()[r]; !sameValue(row[c.col.Name], want, isFloat(c.duckType)) {
				t.Errorf("DuckDB row %d %s = %v, want %v", r, c.col.Name, clip(row[c.col.Name]), clip(want))
			}
		}
		id := fmt.Sprint(row["_airbyte_ab_id"])
		if len(id) != 36 || id[14] != '4' || ids[id] {
			t.Errorf("row %d _airbyte_ab_id %q: want a fresh UUID v4", r, id)
		}
		ids[id] = true
		if got := fmt.Sprint(row["emitted"]); got != "2025-08-07 03:00:00.123+00" {
			t.Errorf("row %d _airbyte_emitted_at = %s", r, got)
		}
	}

	leaves, back := readBack(t, path)
	if len(back) != len(rows) {
		t.Fatalf("parquet-go reads %d rows, want %d", len(back), len(rows))
	}
	for r, row := range back {
		for i, c := range exactCases {
			if leaves[i] != c.col.Name {
				t.Fatalf("leaf %d is %s, want %s", i, leaves[i], c.col.Name)
			}
			want := c.expected()[r]
			if g, ok := goWants[c.col.Name]; ok {
				want = g[r]
			}
			if !sameValue(row[i], want, isFloat(c.duckType)) {
				t.Errorf("parquet-go row %d %s = %v, want %v", r, c.col.Name, clip(row[i]), clip(want))
			}
		}
	}
}

func clip(v any) any {
	if s, ok := v.(string); ok && len(s) > 80 {
		return s[:80] + "..."
	}
	return v
}

// TestExact_ParquetTypesAreTheDocumentedOnes checks the physical and logical
// types other engines (Athena, Spark) rely on, as DuckDB's parquet_schema
// reports them from the file.
func TestExact_ParquetTypesAreTheDocumentedOnes(t *testing.T) {
	t.Parallel()
	cols, rows := casesTable(exactCases)
	path := writeFile(t, mustSchema(t, cols, ModeExact), DefaultOptions(), rows)
	got := map[string]string{}
	for _, r := range testenv.DuckDB(t).Query(t, "SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema("+testenv.SQLString(path)+")") {
		got[fmt.Sprint(r["name"])] = fmt.Sprintf("%v %v %v %v", r["repetition_type"], r["type"], r["converted_type"], r["logical_type"])
	}
	want := map[string]string{
		// DuckDB prints bitWidth as a raw byte, so ints are checked by
		// converted type (INT_16, UINT_64...), which carries the same facts.
		"tiu":                 "OPTIONAL INT32 INT_16 IntType(bitWidth=\x10, isSigned=1)",
		"iu":                  "OPTIONAL INT64 INT_64 IntType(bitWidth=@, isSigned=1)",
		"biu":                 "OPTIONAL INT64 UINT_64 IntType(bitWidth=@, isSigned=0)",
		"d52":                 "OPTIONAL INT32 DECIMAL DecimalType(scale=2, precision=5)",
		"d152":                "OPTIONAL INT64 DECIMAL DecimalType(scale=2, precision=15)",
		"d204":                "OPTIONAL FIXED_LEN_BYTE_ARRAY DECIMAL DecimalType(scale=4, precision=20)",
		"dt":                  "OPTIONAL INT32 DATE DateType()",
		"tm":                  "OPTIONAL INT64 INT_64 IntType(bitWidth=@, isSigned=1)",
		"yr":                  "OPTIONAL INT32 <nil> IntType(bitWidth= , isSigned=1)",
		"flag":                "OPTIONAL INT32 INT_8 IntType(bitWidth=\b, isSigned=1)",
		"bit1":                "OPTIONAL BOOLEAN <nil> <nil>",
		"geo":                 "OPTIONAL BYTE_ARRAY <nil> <nil>",
		"bin":                 "OPTIONAL BYTE_ARRAY <nil> <nil>",
		"nome":                "OPTIONAL BYTE_ARRAY UTF8 StringType()",
		"_airbyte_ab_id":      "REQUIRED BYTE_ARRAY UTF8 StringType()",
		"_airbyte_emitted_at": "REQUIRED INT64 TIMESTAMP_MILLIS TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=MilliSeconds(), MICROS=<null>, NANOS=<null>))",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: parquet_schema says %q, want %q", name, got[name], w)
		}
	}
	for _, name := range []string{"dtm", "ts"} {
		utc := map[string]string{"dtm": "isAdjustedToUTC=0", "ts": "isAdjustedToUTC=1"}[name]
		if !strings.Contains(got[name], "MICROS=MicroSeconds()") || !strings.Contains(got[name], utc) {
			t.Errorf("%s: parquet_schema says %q, want TIMESTAMP(MICROS, %s)", name, got[name], utc)
		}
	}
}
