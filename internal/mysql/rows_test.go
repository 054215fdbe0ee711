package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

// TestReadRange_DirectAndFallbackPathsGiveTheSameValues reads a table of
// every numeric and text shape through the direct driver path (the pool
// Open builds, NextRaw) and through the database/sql fallback (a pool
// without client-side interpolation, where the driver declines the direct
// query). The direct path hands over the server's own text, byte for byte;
// the fallback the same values, floats formatted by Go ("-3.3999999521443642e+38"
// for the server's "-3.3999999521443642e38").
func TestReadRange_DirectAndFallbackPathsGiveTheSameValues(t *testing.T) {
	t.Parallel()
	m, db, name := openShared(t)
	mustExec(t, db,
		`CREATE TABLE t (id BIGINT PRIMARY KEY, ti TINYINT, u BIGINT UNSIGNED, f FLOAT, d DOUBLE,
			dec2 DECIMAL(15,2), s VARCHAR(20), y YEAR, dt DATETIME(3))`,
		`INSERT INTO t VALUES (1, -128, 18446744073709551615, 1.5, 0.1, -12.30, 'olá', 2024, '2024-01-02 03:04:05.678'),
			(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
			(3, 127, 0, -3.4e38, 1.7976931348623157e308, 0.00, '', 1901, '1000-01-01 00:00:00.000')`)
	tb := discoverOne(t, db, name, "t")
	rs, err := PlanRanges(context.Background(), db, tb, 1)
	if err != nil || len(rs) < 2 {
		t.Fatalf("plan: %d ranges, %v; want several, so the reads take arguments", len(rs), err)
	}
	want := []string{
		`"1","-128","18446744073709551615","1.5","0.1","-12.30","olá","2024","2024-01-02 03:04:05.678"`,
		`"2",NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL`,
		// FLOAT is read as a DOUBLE (selectList): the stored float32 in full.
		`"3","127","0","-3.3999999521443642e38","1.7976931348623157e308","0.00","","1901","1000-01-01 00:00:00.000"`,
	}
	if direct := readAll(t, db, tb, rs); !slices.Equal(direct, want) {
		t.Errorf("direct path:\n%v\nwant the server's text:\n%v", direct, want)
	}

	cfg := mysqldriver.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", m.Addr(), name
	cfg.InterpolateParams = false
	connector, err := mysqldriver.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain := sql.OpenDB(connector)
	defer plain.Close()
	want[2] = strings.NewReplacer("e38", "e+38", "e308", "e+308").Replace(want[2])
	if fallback := readAll(t, plain, tb, rs); !slices.Equal(fallback, want) {
		t.Errorf("fallback path:\n%v\nwant:\n%v", fallback, want)
	}
}

// The pool Open builds reads text result sets through NextRaw (acode's
// copy of the driver, internal/mysqldriver): without it every
// value would be boxed into a driver.Value, a third of a sync's CPU.
func TestOpen_DriverRowsReadWithoutBoxing(t *testing.T) {
	t.Parallel()
	_, db, _ := openShared(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(context.Background(), "SELECT 1, NULL, ''", nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		raw, ok := rows.(rawRows)
		if !ok {
			t.Fatalf("driver rows %T have no NextRaw: the read path boxes every value", rows)
		}
		row := make([][]byte, 3)
		if err := raw.NextRaw(row); err != nil {
			return err
		}
		if string(row[0]) != "1" || row[1] != nil || row[2] == nil || len(row[2]) != 0 {
			t.Errorf("NextRaw row = %q; want 1, NULL, empty (not NULL)", row)
		}
		if err := raw.NextRaw(row); err != io.EOF {
			t.Errorf("after the last row NextRaw = %v, want io.EOF", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Values on both sides of each length-prefix size (one byte below 251,
// then two, three bytes) arrive whole through NextRaw, beside NULL and the
// empty string.
func TestReadRange_ValuesOfEveryLengthPrefix(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	lengths := []int{0, 1, 250, 251, 252, 65535, 65536, 70000}
	mustExec(t, db, "CREATE TABLE lens (id INT PRIMARY KEY, v MEDIUMTEXT, w VARCHAR(3))")
	for i, n := range lengths {
		mustExec(t, db, "INSERT INTO lens VALUES ("+strconv.Itoa(i)+", REPEAT('é', "+strconv.Itoa(n)+"), 'ab')")
	}
	mustExec(t, db, "INSERT INTO lens VALUES (100, NULL, NULL)")
	tb := discoverOne(t, db, name, "lens")
	got := map[int]string{}
	nulls := 0
	_, err := ReadRange(context.Background(), db, tb, Range{}, ReadOptions{}, func(row [][]byte) error {
		id, _ := strconv.Atoi(string(row[0]))
		if row[1] == nil || row[2] == nil {
			nulls++
			if row[1] != nil || row[2] != nil {
				t.Errorf("row %d: %q %q, want both NULL", id, row[1], row[2])
			}
			return nil
		}
		if string(row[2]) != "ab" {
			t.Errorf("row %d: w = %q after v, want ab", id, row[2])
		}
		got[id] = string(row[1])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range lengths {
		if v, ok := got[i]; !ok || v != strings.Repeat("é", n) || (n == 0 && v != "") {
			t.Errorf("row %d: %d bytes, want %d runes of é", i, len(v), n)
		}
	}
	if nulls != 1 {
		t.Errorf("%d NULL rows, want 1", nulls)
	}
}
