package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

// checkRangeShape asserts the invariants every plan keeps: indexes in
// order, first open below, last open above, each range starting where the
// previous ended.
func checkRangeShape(t *testing.T, rs []Range) {
	t.Helper()
	if len(rs) == 0 {
		t.Fatal("no ranges")
	}
	for i, r := range rs {
		if r.Index != i {
			t.Fatalf("range %d has Index %d", i, r.Index)
		}
		if i == 0 && r.Lo != nil {
			t.Fatalf("first range has a lower bound %v", r.Lo)
		}
		if i == len(rs)-1 && r.Hi != nil {
			t.Fatalf("last range has an upper bound %v", r.Hi)
		}
		if i > 0 && !reflect.DeepEqual(r.Lo, rs[i-1].Hi) {
			t.Fatalf("range %d starts at %v but range %d ends at %v", i, r.Lo, i-1, rs[i-1].Hi)
		}
	}
}

func TestSplitIntegerSpan_CoversSpanWithoutGaps(t *testing.T) {
	t.Parallel()
	maxU64, _ := new(big.Int).SetString("18446744073709551615", 10)
	cases := []struct {
		name           string
		lo, hi         *big.Int
		rows, chunk    int64
		wantN          int
		firstHi, extra string
	}{
		{"one row", big.NewInt(5), big.NewInt(5), 1, 10, 1, "", ""},
		{"ten chunks", big.NewInt(1), big.NewInt(1000), 1000, 100, 10, "100", ""},
		{"negative ids", big.NewInt(-500), big.NewInt(499), 1000, 250, 4, "-251", ""},
		{"more chunks than ids", big.NewInt(1), big.NewInt(3), 1000, 1, 3, "1", ""},
		{"unsigned near 2^64", new(big.Int).Sub(maxU64, big.NewInt(999)), maxU64, 1000, 100, 10, "18446744073709550715", ""},
		{"stale estimate of zero", big.NewInt(1), big.NewInt(100), 0, 10, 1, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := splitIntegerSpan(tc.lo, tc.hi, tc.rows, tc.chunk)
			checkRangeShape(t, rs)
			if len(rs) != tc.wantN {
				t.Fatalf("%d ranges, want %d: %v", len(rs), tc.wantN, rs)
			}
			if tc.firstHi != "" && rs[0].Hi[0] != tc.firstHi {
				t.Fatalf("first range ends at %s, want %s", rs[0].Hi[0], tc.firstHi)
			}
			for _, r := range rs[:len(rs)-1] {
				v, _ := new(big.Int).SetString(r.Hi[0], 10)
				if v.Cmp(tc.lo) < 0 || v.Cmp(tc.hi) >= 0 {
					t.Fatalf("bound %s outside [%s, %s)", v, tc.lo, tc.hi)
				}
			}
		})
	}
}

// readAll reads every range in order and returns the rows as text, one
// string per row; it fails on a row that appears twice.
func readAll(t *testing.T, db *sql.DB, tb schema.Table, rs []Range) []string {
	t.Helper()
	var out []string
	for _, r := range rs {
		c := int64(-1)
		n, err := ReadRange(context.Background(), db, tb, r, ReadOptions{Counted: func(n int64) { c = n }}, func(row [][]byte) error {
			out = append(out, rowText(row))
			return nil
		})
		if err != nil {
			t.Fatalf("read range %d: %v", r.Index, err)
		}
		if c != n {
			t.Fatalf("range %d: counted %d, read %d", r.Index, c, n)
		}
	}
	return out
}

func rowText(row [][]byte) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = fmt.Sprintf("%q", v)
		}
	}
	return strings.Join(parts, ",")
}

// fullScan is the reference: one SELECT of the whole table in key order.
func fullScan(t *testing.T, db *sql.DB, tb schema.Table) []string {
	t.Helper()
	var out []string
	if _, err := ReadRange(context.Background(), db, tb, Range{}, ReadOptions{}, func(row [][]byte) error {
		out = append(out, rowText(row))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPlanRanges_ReadEveryRowExactlyOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		ddl     string
		fill    []string
		chunk   int
		minRngs int
		wantN   int
	}{
		{"dense int", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
			[]string{"INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_2000"}, 150, 10, 2000},
		{"sparse ids", "CREATE TABLE t (id BIGINT PRIMARY KEY, v INT)",
			[]string{"INSERT INTO t SELECT seq, seq FROM seq_1_to_500",
				"INSERT INTO t SELECT 1000000000 + seq, seq FROM seq_1_to_500"}, 100, 2, 1000},
		{"negative ids", "CREATE TABLE t (id INT PRIMARY KEY, v INT)",
			[]string{"INSERT INTO t SELECT CAST(seq AS SIGNED) - 1000, seq FROM seq_1_to_2000"}, 200, 5, 2000},
		{"empty table", "CREATE TABLE t (id INT PRIMARY KEY)", nil, 100, 1, 0},
		{"one row", "CREATE TABLE t (id INT PRIMARY KEY)", []string{"INSERT INTO t VALUES (42)"}, 100, 1, 1},
		{"unsigned bigint near 2^64", "CREATE TABLE t (id BIGINT UNSIGNED PRIMARY KEY)",
			[]string{"INSERT INTO t SELECT 18446744073709551615 - seq + 1 FROM seq_1_to_1000",
				"INSERT INTO t VALUES (0)"}, 100, 2, 1001},
		{"composite key", "CREATE TABLE t (a INT, b VARCHAR(8), v INT, PRIMARY KEY (a, b))",
			[]string{"INSERT INTO t SELECT seq DIV 10, CONCAT('k', seq MOD 10), seq FROM seq_1_to_1500"}, 100, 15, 1500},
		{"varchar key", "CREATE TABLE t (k VARCHAR(20) PRIMARY KEY, v INT)",
			[]string{"INSERT INTO t SELECT CONCAT('key-', seq), seq FROM seq_1_to_999"}, 100, 10, 999},
		{"decimal key", "CREATE TABLE t (k DECIMAL(30,10) PRIMARY KEY)",
			[]string{"INSERT INTO t SELECT 12345678901234567890 + seq / 1000 FROM seq_1_to_500"}, 50, 10, 500},
		{"binary key", "CREATE TABLE t (k BINARY(16) PRIMARY KEY)",
			[]string{"INSERT INTO t SELECT UNHEX(MD5(seq)) FROM seq_1_to_700"}, 100, 7, 700},
		{"no primary key", "CREATE TABLE t (v INT)",
			[]string{"INSERT INTO t SELECT seq FROM seq_1_to_300"}, 10, 1, 300},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, db, name := openShared(t)
			mustExec(t, db, tc.ddl)
			mustExec(t, db, tc.fill...)
			mustExec(t, db, "ANALYZE TABLE t")
			tb := discoverOne(t, db, name, "t")
			rs, err := PlanRanges(context.Background(), db, tb, tc.chunk)
			if err != nil {
				t.Fatal(err)
			}
			checkRangeShape(t, rs)
			if len(rs) < tc.minRngs {
				t.Fatalf("%d ranges, want at least %d", len(rs), tc.minRngs)
			}
			got := readAll(t, db, tb, rs)
			want := fullScan(t, db, tb)
			if len(want) != tc.wantN {
				t.Fatalf("table has %d rows, want %d", len(want), tc.wantN)
			}
			if len(tb.PrimaryKey) == 0 {
				if len(rs) != 1 || len(got) != tc.wantN {
					t.Fatalf("no-key table: %d ranges, %d rows", len(rs), len(got))
				}
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ranges read %d rows, full scan %d: not the same rows in key order", len(got), len(want))
			}
		})
	}
}

func TestPlanRanges_LastRangeReadsRowsInsertedAfterPlanning(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t SELECT seq FROM seq_1_to_1000", "ANALYZE TABLE t")
	tb := discoverOne(t, db, name, "t")
	rs, err := PlanRanges(context.Background(), db, tb, 100)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO t VALUES (5000), (-7)")
	got := readAll(t, db, tb, rs)
	if len(got) != 1002 || got[0] != `"-7"` || got[len(got)-1] != `"5000"` {
		t.Fatalf("read %d rows, first %s last %s; want 1002 from -7 to 5000", len(got), got[0], got[len(got)-1])
	}
}
