package syncer

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/testenv"
)

// A family is one table of the domain test: its columns, the rows holding
// the type's extreme legal values, and per column how to read the same
// value from MySQL and from the Parquet file so that the two compare as
// text (the MySQL side as the server computes it from the stored value).
type family struct {
	table string
	cols  []domainCol
	rows  []string // VALUES tuples after the id
	// overrides are sync.columns entries for the table ("col: type").
	overrides []string
}

type domainCol struct {
	name, ddl string
	mysql     string // expression over `c`; "" means CAST(c AS CHAR)
	duck      string // expression over c; "" means c::VARCHAR
	cmp       cmpMode
}

type cmpMode uint8

const (
	cmpText    cmpMode = iota
	cmpFloat32         // both sides parsed, compared as float32
	cmpFloat64
	cmpDecimal // exact decimal values: DuckDB writes 0.5 of a DECIMAL(1,1) as ".5"
)

func q(name string) string  { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }
func dq(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (c domainCol) mysqlExpr() string {
	if c.mysql == "" {
		return "CAST(" + q(c.name) + " AS CHAR)"
	}
	return strings.ReplaceAll(c.mysql, "`c`", q(c.name))
}

func (c domainCol) duckExpr() string {
	if c.duck == "" {
		return dq(c.name) + "::VARCHAR"
	}
	return strings.ReplaceAll(c.duck, `"c"`, dq(c.name))
}

// Expressions that render a value as an exact number on both sides.
const (
	// Days since 1970-01-01 (proleptic Gregorian on both sides); NULL for
	// zero and partial zero dates, which the files hold as NULL.
	mysqlDays = "TO_DAYS(`c`) - 719528"
	duckDays  = `datediff('day', DATE '1970-01-01', "c")::VARCHAR`
	// Microseconds since the epoch of the same wall clock (the session is UTC).
	mysqlMicros = "CAST((TO_DAYS(`c`) - 719528) * 86400000000 + TIME_TO_SEC(TIME(`c`)) * 1000000 AS SIGNED)"
	duckMicros  = `epoch_us("c")::VARCHAR`
	mysqlTime   = "CAST(TIME_TO_SEC(`c`) * 1000000 AS SIGNED)"
	// Bytes, for binaries and text alike: the exact UTF-8 of text columns
	// whatever their character set.
	mysqlHex  = "HEX(`c`)"
	mysqlUHex = "HEX(CONVERT(`c` USING utf8mb4))"
	duckHex   = `hex("c")`
)

func integerFamily() family {
	f := family{table: "ints"}
	types := []struct {
		name, ddl string
		min, max  string
	}{
		{"ti", "TINYINT", "-128", "127"}, {"tiu", "TINYINT UNSIGNED", "0", "255"},
		{"si", "SMALLINT", "-32768", "32767"}, {"siu", "SMALLINT UNSIGNED", "0", "65535"},
		{"mi", "MEDIUMINT", "-8388608", "8388607"}, {"miu", "MEDIUMINT UNSIGNED", "0", "16777215"},
		{"i", "INT", "-2147483648", "2147483647"}, {"iu", "INT UNSIGNED", "0", "4294967295"},
		{"bi", "BIGINT", "-9223372036854775808", "9223372036854775807"}, {"biu", "BIGINT UNSIGNED", "0", "18446744073709551615"},
		{"flag", "TINYINT(1)", "-128", "127"}, {"flagu", "TINYINT(1) UNSIGNED", "0", "255"},
		{"yes_no", "BOOLEAN", "0", "1"}, // overridden to BOOLEAN: only 0 and 1 are stored
	}
	var mins, maxs, mids []string
	for _, ty := range types {
		f.cols = append(f.cols, domainCol{name: ty.name, ddl: ty.ddl})
		mins, maxs = append(mins, ty.min), append(maxs, ty.max)
		mids = append(mids, "1")
	}
	f.cols[len(f.cols)-1].mysql = "IF(`c` IS NULL, NULL, IF(`c`, 'true', 'false'))"
	f.rows = []string{strings.Join(mins, ", "), strings.Join(maxs, ", "), strings.Join(mids, ", "),
		strings.TrimSuffix(strings.Repeat("NULL, ", len(types)), ", ")}
	f.overrides = []string{"yes_no: boolean"}
	return f
}

func decimalFamily() family {
	f := family{table: "decimals"}
	var mins, maxs, tiny, zero []string
	for _, ps := range [][2]int{{1, 0}, {9, 4}, {18, 9}, {18, 0}, {19, 0}, {38, 10}, {38, 38}, {39, 0}, {65, 0}, {65, 30}} {
		p, s := ps[0], ps[1]
		name := fmt.Sprintf("d%d_%d", p, s)
		f.cols = append(f.cols, domainCol{name: name, ddl: fmt.Sprintf("DECIMAL(%d,%d)", p, s), cmp: cmpDecimal})
		max := strings.Repeat("9", p-s)
		if s > 0 {
			max += "." + strings.Repeat("9", s)
		}
		if p == s {
			max = "0" + max
		}
		smallest := "1"
		if s > 0 {
			smallest = "0." + strings.Repeat("0", s-1) + "1"
		}
		mins, maxs = append(mins, "-"+max), append(maxs, max)
		tiny, zero = append(tiny, "-"+smallest), append(zero, "0")
	}
	f.rows = []string{strings.Join(mins, ", "), strings.Join(maxs, ", "), strings.Join(tiny, ", "), strings.Join(zero, ", ")}
	return f
}

func floatFamily() family {
	return family{table: "floats",
		cols: []domainCol{
			// The MySQL side reads the stored FLOAT as a DOUBLE: exact, where
			// its text is rounded to 6 digits.
			{name: "f", ddl: "FLOAT", mysql: "`c` * 1e0", duck: `"c"::DOUBLE::VARCHAR`, cmp: cmpFloat32},
			{name: "d", ddl: "DOUBLE", mysql: "`c`", duck: `"c"::VARCHAR`, cmp: cmpFloat64},
		},
		rows: []string{
			"3.4028234e38, 1.7976931348623157e308", "-3.4028234e38, -1.7976931348623157e308",
			"1.17549435e-38, 2.2250738585072014e-308", // smallest normals
			"1.4e-45, 4.9e-324",                       // smallest subnormals
			"-1.4e-45, -4.9e-324", "16777217, 9007199254740993", "1.2345678, 0.1", "0, 0", "NULL, NULL",
		}}
}

func bitFamily() family {
	f := family{table: "bits"}
	var zeros, ones, pattern []string
	for _, w := range []int{1, 2, 7, 8, 9, 17, 31, 32, 33, 63, 64} {
		name := fmt.Sprintf("b%d", w)
		c := domainCol{name: name, ddl: fmt.Sprintf("BIT(%d)", w),
			// MySQL sends BIT(n) as ceil(n/8) big-endian bytes.
			mysql: fmt.Sprintf("LPAD(HEX(`c`), %d, '0')", (w+7)/8*2), duck: duckHex}
		if w == 1 {
			c.mysql, c.duck = "IF(`c` IS NULL, NULL, IF(`c` = 1, 'true', 'false'))", ""
		}
		f.cols = append(f.cols, c)
		zeros, ones = append(zeros, "b'0'"), append(ones, "b'"+strings.Repeat("1", w)+"'")
		pattern = append(pattern, "b'"+strings.Repeat("10", w/2)+strings.Repeat("1", w%2)+"'")
	}
	f.rows = []string{strings.Join(zeros, ", "), strings.Join(ones, ", "), strings.Join(pattern, ", ")}
	return f
}

func temporalFamily() family {
	f := family{table: "temporal", cols: []domainCol{
		{name: "dt", ddl: "DATE", mysql: mysqlDays, duck: duckDays},
		{name: "yr", ddl: "YEAR", mysql: "`c` + 0"},
	}}
	lo, hi := []string{"'0001-01-01'", "1901"}, []string{"'9999-12-31'", "2155"}
	zero, part := []string{"'0000-00-00'", "0"}, []string{"'2025-00-10'", "2000"}
	part2 := []string{"'2025-01-00'", "2025"}
	for fsp := 0; fsp <= 6; fsp++ {
		frac := ""
		if fsp > 0 {
			frac = "." + strings.Repeat("9", fsp)
		}
		f.cols = append(f.cols,
			domainCol{name: fmt.Sprintf("dtm%d", fsp), ddl: fmt.Sprintf("DATETIME(%d)", fsp), mysql: mysqlMicros, duck: duckMicros},
			domainCol{name: fmt.Sprintf("ts%d", fsp), ddl: fmt.Sprintf("TIMESTAMP(%d) NULL", fsp), mysql: mysqlMicros, duck: duckMicros},
			domainCol{name: fmt.Sprintf("tm%d", fsp), ddl: fmt.Sprintf("TIME(%d)", fsp), mysql: mysqlTime, duck: `"c"::VARCHAR`})
		lo = append(lo, "'0001-01-01 00:00:00'", "'1970-01-01 00:00:01'", "'-838:59:59'")
		hi = append(hi, "'9999-12-31 23:59:59"+frac+"'", "'2038-01-19 03:14:07"+frac+"'", "'838:59:59'")
		zero = append(zero, "'0000-00-00 00:00:00'", "'0000-00-00 00:00:00'", "'00:00:00'")
		part = append(part, "'2025-00-10 12:34:56"+frac+"'", "'2025-08-07 12:34:56"+frac+"'", "'-00:00:00"+frac+"'")
		part2 = append(part2, "'2025-01-00 00:00:00'", "'1999-12-31 23:59:59'", "'23:59:59"+frac+"'")
	}
	f.rows = []string{strings.Join(lo, ", "), strings.Join(hi, ", "), strings.Join(zero, ", "), strings.Join(part, ", "), strings.Join(part2, ", ")}
	return f
}

func stringFamily() family {
	return family{table: "strings",
		cols: []domainCol{
			{name: "ch", ddl: "CHAR(10)", mysql: mysqlUHex, duck: duckHex},
			{name: "lat", ddl: "VARCHAR(20) CHARACTER SET latin1", mysql: mysqlUHex, duck: duckHex},
			{name: "u4", ddl: "VARCHAR(20) CHARACTER SET utf8mb4", mysql: mysqlUHex, duck: duckHex},
			{name: "txt", ddl: "MEDIUMTEXT", mysql: mysqlUHex, duck: duckHex},
			{name: "e", ddl: "ENUM('', 'a', 'ção', '💊')", mysql: mysqlUHex, duck: duckHex},
			{name: "s", ddl: "SET('a', 'b', 'ç')", mysql: mysqlUHex, duck: duckHex},
			{name: "j", ddl: "JSON", mysql: mysqlUHex, duck: duckHex},
		},
		rows: []string{
			"'ab  ', 'çãé ÿ', 'Farmácia 💊🎉 𝔘', REPEAT('é', 100000), '💊', 'a,b,ç', '{\"k\": [1, \"é\", null]}'",
			"'', '', '', '', '', '', '[]'",
			"'  x', CONCAT('a', CHAR(0), 'b'), CONCAT('tab\\t', 'nl\\n'), ' ', 'ção', '', 'null'",
			"NULL, NULL, NULL, NULL, NULL, NULL, NULL",
		}}
}

func binaryFamily() family {
	return family{table: "binaries",
		cols: []domainCol{
			{name: "bin", ddl: "BINARY(4)", mysql: mysqlHex, duck: duckHex},
			{name: "vb", ddl: "VARBINARY(16)", mysql: mysqlHex, duck: duckHex},
			{name: "blb", ddl: "BLOB", mysql: mysqlHex, duck: duckHex},
			// 16 MiB: compared by size and digest rather than as 32 MiB of hex.
			{name: "lb", ddl: "LONGBLOB", mysql: "CONCAT(LENGTH(`c`), ':', SHA2(`c`, 256))", duck: `octet_length("c")::VARCHAR || ':' || sha256("c")`},
		},
		rows: []string{
			"x'FF', x'FFFE00C3', x'C328', REPEAT(x'00FF', 8388608)", // invalid UTF-8; 16 MiB
			"x'', x'', x'', x''",
			"x'00000001', x'80', REPEAT(x'ED', 65535), x'F09F928A'",
			"NULL, NULL, NULL, NULL",
		}}
}

// spatialFamily has every spatial type, all values with one SRID, so the
// file's GeoParquet metadata can say which.
func spatialFamily(table string, srid int) family {
	f := family{table: table}
	values := map[string][2]string{
		"pt":   {"POINT", "POINT(-46.63 -23.55)"},
		"ls":   {"LINESTRING", "LINESTRING(0 0, 1 1, 2 0)"},
		"pg":   {"POLYGON", "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))"},
		"mpt":  {"MULTIPOINT", "MULTIPOINT(0 0, 1e300 -1e-300)"},
		"mls":  {"MULTILINESTRING", "MULTILINESTRING((0 0, 1 1), (2 2, 3 3))"},
		"mpg":  {"MULTIPOLYGON", "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))"},
		"gc":   {"GEOMETRYCOLLECTION", "GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))"},
		"geom": {"GEOMETRY", "POLYGON((0 0, 1 0, 1 1, 0 0))"},
	}
	var row, nulls []string
	for _, name := range spatialColumns {
		v := values[name]
		f.cols = append(f.cols, domainCol{name: name, ddl: v[0], mysql: "HEX(ST_AsWKB(`c`))", duck: duckHex})
		row = append(row, fmt.Sprintf("ST_GeomFromText('%s', %d)", v[1], srid))
		nulls = append(nulls, "NULL")
	}
	f.rows = []string{strings.Join(row, ", "), strings.Join(nulls, ", ")}
	return f
}

var spatialColumns = []string{"pt", "ls", "pg", "mpt", "mls", "mpg", "gc", "geom"}

func namesFamily() family {
	return family{table: "names",
		cols: []domainCol{
			{name: "first name", ddl: "VARCHAR(10)"},
			{name: "select", ddl: "INT"},
			{name: "ação", ddl: "VARCHAR(10)"},
			{name: "Order By", ddl: "DATE", mysql: mysqlDays, duck: duckDays},
			{name: "a", ddl: "INT"},
			{name: "virt", ddl: "BIGINT AS (`a` * 2) VIRTUAL"},
			{name: "stor", ddl: "VARCHAR(30) AS (CONCAT('x', `a`, `first name`)) STORED"},
			{name: "dt_text", ddl: "DATE", mysql: "CAST(`c` AS CHAR)", duck: `"c"`},
		},
		rows: []string{
			"'João', 1, 'é', '2025-08-07', 21, DEFAULT, DEFAULT, '2025-00-10'",
			"NULL, NULL, NULL, NULL, NULL, DEFAULT, DEFAULT, '0000-00-00'",
		},
		overrides: []string{"dt_text: string"},
	}
}

func domainFamilies() []family {
	return []family{integerFamily(), decimalFamily(), floatFamily(), bitFamily(), temporalFamily(),
		stringFamily(), binaryFamily(), spatialFamily("spatial", 4326), spatialFamily("spatial0", 0), namesFamily()}
}

// TestSync_EveryLegalValueArrivesUnchanged syncs one table per MySQL type
// family, holding the type's extreme legal values (zero and partial zero
// dates under a permissive sql_mode, a 16 MiB LONGBLOB), through the real
// sync path from a MariaDB of its own, then reads the files with DuckDB and
// compares every value with what the server says is stored: equal, or NULL
// where the README documents it (zero dates).
func TestSync_EveryLegalValueArrivesUnchanged(t *testing.T) {
	t.Parallel()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{Args: []string{"--sql-mode=", "--max-allowed-packet=64M"}})
	database := m.NewDatabase(t)
	fams := domainFamilies()
	settings := []string{"chunk_rows: 2000", "columns:"}
	for _, f := range fams {
		createFamily(t, m, database, f)
		for _, o := range f.overrides {
			settings = append(settings, "  "+f.table+"."+o)
		}
	}
	p := testenv.NewProject(t, m, database, nil)
	writeConnection(t, p, "connection_domain", fams)
	p.Settings(t, settings...)
	res, err := (&fixture{p}).run(t, "connection_domain", Options{})
	if err != nil {
		t.Fatal(err)
	}
	globs := map[string]string{}
	for _, st := range res.Streams {
		globs[st.Name] = testenv.SQLString(filepath.Join(p.LocalRoot(), st.Partition, "*.parquet"))
	}

	stmts := []string{"SET TimeZone='UTC'", "SET enable_geoparquet_conversion=false"}
	for _, f := range fams {
		var sel []string
		for i, c := range f.cols {
			sel = append(sel, fmt.Sprintf("%s AS c%d", c.duckExpr(), i))
		}
		stmts = append(stmts, "SELECT id::VARCHAR AS id, "+strings.Join(sel, ", ")+" FROM read_parquet("+globs[f.table]+") ORDER BY id")
	}
	duck := testenv.DuckDB(t).Run(t, stmts...)[2:]
	src := mysqlValues(t, m, database, fams)
	for fi, f := range fams {
		got, want := duck[fi].Rows, src[fi]
		if len(got) != len(want) {
			t.Errorf("%s: DuckDB reads %d rows, MySQL has %d", f.table, len(got), len(want))
			continue
		}
		for r := range want {
			for i, c := range f.cols {
				key := "c" + strconv.Itoa(i)
				g, w := duckText(got[r][key]), want[r][i]
				if !sameDomainValue(g, w, c.cmp) {
					t.Errorf("%s row %d %s %s: file has %s, MySQL %s", f.table, r+1, c.name, c.ddl, clipped(g), clipped(w))
				}
			}
		}
	}
	checkDomainTypes(t, globs)
	checkNulledCounts(t, m, database, p, res, fams)

	// acode validate --deep re-reads every file and recomputes the
	// statistics: they must agree with the manifests' for every family.
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := proj.Connection("connection_domain")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.Day(t.Context(), proj, conn, res.StartedAt, nil, validate.Options{Deep: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Partitions {
		if len(c.Problems) > 0 || len(c.StatsDiffs) > 0 {
			t.Errorf("validate --deep %s: problems %v, statistics differences %v", c.Stream, c.Problems, c.StatsDiffs)
		}
	}
}

// checkNulledCounts checks that every date MySQL holds with a zero month
// or day (the values the files hold as NULL) is counted, per column, in
// the --json result, the manifest and the quality report's warnings.
func checkNulledCounts(t *testing.T, m *testenv.MariaDB, database string, p *testenv.Project, res *Result, fams []family) {
	t.Helper()
	db := m.Root(t)
	for _, f := range fams {
		want := map[string]int64{}
		for _, c := range f.cols {
			ddl := strings.Fields(c.ddl)[0]
			if !strings.HasPrefix(ddl, "DATE") && !strings.HasPrefix(ddl, "TIMESTAMP") || f.table == "names" && c.name == "dt_text" {
				continue
			}
			var n int64
			if err := db.QueryRowContext(t.Context(), fmt.Sprintf("SELECT COUNT(*) FROM %s.%s WHERE MONTH(%s) = 0 OR DAYOFMONTH(%s) = 0",
				q(database), q(f.table), q(c.name), q(c.name))).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				want[c.name] = n
			}
		}
		var st StreamResult
		for _, s := range res.Streams {
			if s.Name == f.table {
				st = s
			}
		}
		if !maps.Equal(st.NulledValues, want) {
			t.Errorf("%s: --json nulled_values %v, want %v", f.table, st.NulledValues, want)
		}
		data, err := os.ReadFile(filepath.Join(p.LocalRoot(), st.Partition, layout.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		var man snapshot.Manifest
		if err := json.Unmarshal(data, &man); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(man.NulledValues, want) || !maps.Equal(man.Stats.Nulled, want) {
			t.Errorf("%s: manifest nulled_values %v, stats %v, want %v", f.table, man.NulledValues, man.Stats.Nulled, want)
		}
		if warned := slices.Contains(man.Quality.Warnings, "nulled_values"); warned != (len(want) > 0) {
			t.Errorf("%s: quality warnings %v; want nulled_values exactly when values were nulled", f.table, man.Quality.Warnings)
		}
	}
}

// createFamily creates the family's table and inserts its rows, ids 1..n.
func createFamily(t *testing.T, m *testenv.MariaDB, database string, f family) {
	t.Helper()
	var defs, names []string
	for _, c := range f.cols {
		defs = append(defs, q(c.name)+" "+c.ddl)
		names = append(names, q(c.name))
	}
	m.Exec(t, fmt.Sprintf("CREATE TABLE %s.%s (id INT PRIMARY KEY, %s) CHARACTER SET utf8mb4", q(database), q(f.table), strings.Join(defs, ", ")))
	for i, r := range f.rows {
		m.Exec(t, fmt.Sprintf("INSERT INTO %s.%s (id, %s) VALUES (%d, %s)", q(database), q(f.table), strings.Join(names, ", "), i+1, r))
	}
}

// writeConnection writes a connection to the local destination that
// selects every family's table as a full-refresh stream.
func writeConnection(t *testing.T, p *testenv.Project, name string, fams []family) {
	t.Helper()
	conn := "resource_name: \"" + name + "\"\ndefinition_type: connection\n" +
		"source_configuration_path: sources/source_mysql_acode/configuration.yaml\n" +
		"destination_configuration_path: destinations/destination_local_acode/configuration.yaml\n" +
		"configuration:\n  status: active\n  schedule_type: manual\n  sync_catalog:\n    streams:\n"
	for _, f := range fams {
		conn += "      - config:\n          cursor_field: []\n          destination_sync_mode: append\n" +
			"          primary_key: [[id]]\n          selected: true\n          sync_mode: full_refresh\n" +
			"        stream:\n          name: " + f.table + "\n          namespace: " + p.Database + "\n"
	}
	dir := filepath.Join(p.Dir, "connections", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "configuration.yaml"), []byte(conn), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mysqlValues reads each family's columns through its MySQL expressions,
// in a UTC session as the sync's reader has: one row of *string per id.
func mysqlValues(t *testing.T, m *testenv.MariaDB, database string, fams []family) [][][]*string {
	t.Helper()
	ctx := t.Context()
	conn, err := m.Root(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	out := make([][][]*string, len(fams))
	for fi, f := range fams {
		var sel []string
		for _, c := range f.cols {
			sel = append(sel, c.mysqlExpr())
		}
		rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s.%s ORDER BY id", strings.Join(sel, ", "), q(database), q(f.table)))
		if err != nil {
			t.Fatalf("%s: %v", f.table, err)
		}
		for rows.Next() {
			vals := make([]sql.NullString, len(f.cols))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", f.table, err)
			}
			row := make([]*string, len(vals))
			for i, v := range vals {
				if v.Valid {
					row[i] = &v.String
				}
			}
			out[fi] = append(out[fi], row)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", f.table, err)
		}
		rows.Close()
	}
	return out
}

func duckText(v any) *string {
	if v == nil {
		return nil
	}
	s := fmt.Sprint(v)
	return &s
}

func sameDomainValue(got, want *string, mode cmpMode) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	switch mode {
	case cmpDecimal:
		g, ok1 := new(big.Rat).SetString(*got)
		w, ok2 := new(big.Rat).SetString(*want)
		return ok1 && ok2 && g.Cmp(w) == 0
	case cmpFloat32, cmpFloat64:
		g, err1 := strconv.ParseFloat(*got, 64)
		w, err2 := strconv.ParseFloat(*want, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if mode == cmpFloat32 {
			return float32(g) == float32(w)
		}
		return g == w
	}
	return *got == *want
}

func clipped(s *string) string {
	if s == nil {
		return "NULL"
	}
	if len(*s) > 80 {
		return strconv.Quote((*s)[:80]) + "..."
	}
	return strconv.Quote(*s)
}

// checkDomainTypes checks the types a user sees where exact mode chose
// them (README, Types), and the GeoParquet metadata of both spatial tables.
func checkDomainTypes(t *testing.T, globs map[string]string) {
	t.Helper()
	res := testenv.DuckDB(t).Run(t,
		"SELECT * FROM read_parquet("+globs["ints"]+") LIMIT 0",
		"SELECT * FROM read_parquet("+globs["temporal"]+") LIMIT 0",
		"SELECT * FROM read_parquet("+globs["spatial"]+") LIMIT 0",
		"SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata("+globs["spatial"]+")",
		"SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata("+globs["spatial0"]+")",
	)
	types := func(r testenv.DuckResult) map[string]string {
		out := map[string]string{}
		for i, c := range r.Columns {
			out[c] = r.Types[i]
		}
		return out
	}
	ints, temporal, spatial := types(res[0]), types(res[1]), types(res[2])
	for col, want := range map[string]string{"flag": "TINYINT", "flagu": "SMALLINT", "yes_no": "BOOLEAN", "biu": "UBIGINT"} {
		if ints[col] != want {
			t.Errorf("ints.%s is %s, want %s", col, ints[col], want)
		}
	}
	if temporal["tm6"] != "BIGINT" || temporal["dtm6"] != "TIMESTAMP" || temporal["ts6"] != "TIMESTAMP WITH TIME ZONE" {
		t.Errorf("temporal types %v", temporal)
	}
	for _, c := range spatialColumns {
		if !strings.HasPrefix(spatial[c], "GEOMETRY") {
			t.Errorf("spatial.%s is %s, want GEOMETRY (DuckDB reads the GeoParquet metadata)", c, spatial[c])
		}
	}
	for i, want := range map[int]string{3: `"acode_srid":4326`, 4: `"acode_srid":0`} {
		geo := ""
		for _, r := range res[i].Rows {
			if r["k"] == "geo" {
				geo = fmt.Sprint(r["v"])
			}
		}
		if !strings.Contains(geo, want) || !strings.Contains(geo, `"encoding":"WKB"`) || !strings.Contains(geo, `"GeometryCollection"`) {
			t.Errorf("geo metadata %q, want %s", geo, want)
		}
	}
}
