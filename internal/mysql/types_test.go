package mysql

import (
	"context"
	"reflect"
	"testing"
)

const allTypesDDL = "CREATE TABLE all_types (" +
	"id BIGINT UNSIGNED NOT NULL PRIMARY KEY," +
	"ti TINYINT, flag TINYINT(1), si SMALLINT UNSIGNED, mi MEDIUMINT, i INT NOT NULL DEFAULT 0, bi BIGINT," +
	"d DECIMAL(20,4), f FLOAT, db DOUBLE," +
	"dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(6), y YEAR," +
	"c CHAR(3) CHARACTER SET utf8mb4, vc VARCHAR(20) CHARACTER SET utf8mb4, tx TEXT, js JSON," +
	"e ENUM('autorizada','cancelada'), st SET('a','b','c')," +
	"bn BINARY(4), vb VARBINARY(8), bl BLOB, b1 BIT(1), b12 BIT(12))"

func TestDiscover_EveryType(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, allTypesDDL)
	tb := discoverOne(t, db, name, "all_types")
	if tb.Namespace != name || tb.Name != "all_types" || !reflect.DeepEqual(tb.PrimaryKey, []string{"id"}) {
		t.Fatalf("table = %s.%s pk %v", tb.Namespace, tb.Name, tb.PrimaryKey)
	}
	type want struct {
		dataType, columnType string
		nullable, unsigned   bool
		prec, scale          int
		maxLen               int64
		charset              string
	}
	wants := map[string]want{
		"id":   {"bigint", "bigint(20) unsigned", false, true, 0, 0, 0, ""},
		"flag": {"tinyint", "tinyint(1)", true, false, 0, 0, 0, ""},
		"si":   {"smallint", "smallint(5) unsigned", true, true, 0, 0, 0, ""},
		"i":    {"int", "int(11)", false, false, 0, 0, 0, ""},
		"d":    {"decimal", "decimal(20,4)", true, false, 20, 4, 0, ""},
		"dtm":  {"datetime", "datetime(6)", true, false, 6, 0, 0, ""},
		"ts":   {"timestamp", "timestamp(3)", true, false, 3, 0, 0, ""},
		"tm":   {"time", "time(6)", true, false, 6, 0, 0, ""},
		"dt":   {"date", "date", true, false, 0, 0, 0, ""},
		"vc":   {"varchar", "varchar(20)", true, false, 0, 0, 20, "utf8mb4"},
		"c":    {"char", "char(3)", true, false, 0, 0, 3, "utf8mb4"},
		"bn":   {"binary", "binary(4)", true, false, 0, 0, 4, ""},
		"b1":   {"bit", "bit(1)", true, false, 1, 0, 0, ""},
		"b12":  {"bit", "bit(12)", true, false, 12, 0, 0, ""},
		"e":    {"enum", "enum('autorizada','cancelada')", true, false, 0, 0, 10, "utf8mb4"},
	}
	if len(tb.Columns) != 26 {
		t.Fatalf("%d columns, want 26", len(tb.Columns))
	}
	if tb.Columns[0].Name != "id" || tb.Columns[25].Name != "b12" {
		t.Fatalf("columns not in table order: first %s last %s", tb.Columns[0].Name, tb.Columns[25].Name)
	}
	for _, c := range tb.Columns {
		w, ok := wants[c.Name]
		if !ok {
			continue
		}
		got := want{c.DataType, c.ColumnType, c.Nullable, c.Unsigned, c.Precision, c.Scale, c.MaxLength, c.Charset}
		if got != w {
			t.Errorf("column %s = %+v, want %+v", c.Name, got, w)
		}
	}
	if !tb.Columns[2].IsBoolean() || !tb.Columns[24].IsBoolean() || tb.Columns[25].IsBoolean() {
		t.Errorf("IsBoolean: flag %v b1 %v b12 %v", tb.Columns[2].IsBoolean(), tb.Columns[24].IsBoolean(), tb.Columns[25].IsBoolean())
	}
}

func TestDiscover_MissingTableIsTableNotFoundError(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	_, err := Discover(context.Background(), db, name, []string{"no_such_table"})
	var nf *TableNotFoundError
	if !asError(err, &nf) || nf.Table != "no_such_table" || nf.Database != name {
		t.Fatalf("err = %v, want *TableNotFoundError for %s.no_such_table", err, name)
	}
}

func TestReadRange_TextFormsOfEveryType(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, allTypesDDL)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{
		"SET SESSION sql_mode=''",
		"SET SESSION time_zone='-03:00'", // the writer's zone must not leak into reads
		`INSERT INTO all_types VALUES (18446744073709551615, -128, 1, 65535, -8388608, -2147483648, -9223372036854775808,
			-9999999999999999.9999, 1.5, -2.25e-300,
			'0000-00-00', '2025-08-07 12:34:56.123456', '2025-08-07 09:00:00.5', '-838:59:59.000000', 2025,
			'', 'ação 🚀', 'texto', '{"a": 1}', 'cancelada', 'a,c',
			X'00FF0A00', X'', X'DEADBEEF', b'1', b'101000000001')`,
		"INSERT INTO all_types (id) VALUES (1)",
	} {
		if _, err := conn.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	tb := discoverOne(t, db, name, "all_types")
	var got [][]*string
	_, err = ReadRange(context.Background(), db, tb, Range{}, ReadOptions{}, func(row [][]byte) error {
		r := make([]*string, len(row))
		for i, v := range row {
			if v != nil {
				s := string(v)
				r[i] = &s
			}
		}
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2", len(got))
	}
	// Row with only defaults: NULLs are nil, NOT NULL default is "0".
	if got[0][0] == nil || *got[0][0] != "1" || got[0][1] != nil || got[0][5] == nil || *got[0][5] != "0" {
		t.Fatalf("defaults row: id=%v ti=%v i=%v", got[0][0], got[0][1], got[0][5])
	}
	want := []string{"18446744073709551615", "-128", "1", "65535", "-8388608", "-2147483648", "-9223372036854775808",
		"-9999999999999999.9999", "1.5", "-2.25e-300",
		"0000-00-00", "2025-08-07 12:34:56.123456", "2025-08-07 12:00:00.500", "-838:59:59.000000", "2025",
		"", "ação 🚀", "texto", `{"a": 1}`, "cancelada", "a,c",
		"\x00\xff\x0a\x00", "", "\xde\xad\xbe\xef", "\x01", "\x0a\x01"}
	for i, w := range want {
		if got[1][i] == nil {
			t.Errorf("column %s is NULL, want %q", tb.Columns[i].Name, w)
		} else if *got[1][i] != w {
			t.Errorf("column %s = %q, want %q", tb.Columns[i].Name, *got[1][i], w)
		}
	}
}
