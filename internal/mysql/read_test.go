package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

// explain returns type and key of the plan's first row.
func explain(t *testing.T, db *sql.DB, query string, args []any) (typ, key string) {
	t.Helper()
	rows, err := db.Query("EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatalf("explain %s: no rows", query)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	for i, c := range cols {
		switch c {
		case "type":
			typ = vals[i].String
		case "key":
			key = vals[i].String
		}
	}
	return typ, key
}

func TestReadRange_QueryUsesPrimaryKeyRange(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db,
		"CREATE TABLE single (id BIGINT PRIMARY KEY, v INT, w VARCHAR(20), KEY (v))",
		"INSERT INTO single SELECT seq, seq MOD 7, 'x' FROM seq_1_to_20000",
		"CREATE TABLE comp (a INT, b VARCHAR(8), v INT, PRIMARY KEY (a, b))",
		"INSERT INTO comp SELECT seq DIV 10, CONCAT('k', seq MOD 10), seq FROM seq_1_to_20000",
		"ANALYZE TABLE single, comp")
	for _, table := range []string{"single", "comp"} {
		tb := discoverOne(t, db, name, table)
		rs, err := PlanRanges(context.Background(), db, tb, 2000)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) < 5 {
			t.Fatalf("%s: %d ranges, want >= 5", table, len(rs))
		}
		for _, r := range []Range{rs[0], rs[len(rs)/2], rs[len(rs)-1]} {
			q, args, err := selectRangeSQL(tb, r, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			typ, key := explain(t, db, q, args)
			if key != "PRIMARY" || typ != "range" {
				t.Errorf("%s range %d: EXPLAIN type=%q key=%q, want range on PRIMARY\n%s", table, r.Index, typ, key, q)
			}
		}
	}
}

func TestReadRange_IncrementalCursorWindow(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, updated_at DATETIME NOT NULL)",
		"INSERT INTO t VALUES (1,'2025-08-01 10:00:00'),(2,'2025-08-02 10:00:00'),(3,'2025-08-03 10:00:00'),(4,'2025-08-04 10:00:00')")
	tb := discoverOne(t, db, name, "t")
	upTo, ok, err := CursorMax(context.Background(), db, tb, "updated_at")
	if err != nil || !ok || upTo != "2025-08-04 10:00:00" {
		t.Fatalf("CursorMax = %q %v %v", upTo, ok, err)
	}
	mustExec(t, db, "INSERT INTO t VALUES (5,'2025-08-05 10:00:00')") // committed after the bound was taken
	after := "2025-08-02 10:00:00"
	var ids []string
	_, err = ReadRange(context.Background(), db, tb, Range{}, ReadOptions{CursorColumn: "updated_at", CursorAfter: &after, CursorUpTo: &upTo},
		func(row [][]byte) error { ids = append(ids, string(row[0])); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "3,4" {
		t.Fatalf("window (after, upTo] read ids %v, want [3 4]", ids)
	}
	mustExec(t, db, "CREATE TABLE empty_t (id INT PRIMARY KEY, c INT)")
	if _, ok, err := CursorMax(context.Background(), db, discoverOne(t, db, name, "empty_t"), "c"); ok || err != nil {
		t.Fatalf("CursorMax on an empty table: ok=%v err=%v, want not ok", ok, err)
	}
}

func TestReadRange_ThrottleAndCallbackError(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t SELECT seq FROM seq_1_to_1000")
	tb := discoverOne(t, db, name, "t")

	start := time.Now()
	n, err := ReadRange(context.Background(), db, tb, Range{}, ReadOptions{MaxRowsPerSecond: 2000}, func([][]byte) error { return nil })
	if err != nil || n != 1000 {
		t.Fatalf("throttled read: %d rows, %v", n, err)
	}
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Fatalf("1000 rows at 2000 rows/s took %s, want about 0.5 s", el)
	}

	stop := errors.New("stop here")
	n, err = ReadRange(context.Background(), db, tb, Range{}, ReadOptions{}, func(row [][]byte) error {
		if string(row[0]) == "10" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 9 {
		t.Fatalf("callback error: n=%d err=%v, want 9 rows and the callback's error", n, err)
	}
	// The connection went back to the pool usable.
	if _, err := ReadRange(context.Background(), db, tb, Range{}, ReadOptions{}, func([][]byte) error { return nil }); err != nil {
		t.Fatalf("pool after an aborted read: %v", err)
	}
}

func TestReadRange_CancelledContextStopsRead(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t SELECT seq FROM seq_1_to_1000")
	tb := discoverOne(t, db, name, "t")
	ctx, cancel := context.WithCancel(context.Background())
	n, err := ReadRange(ctx, db, tb, Range{}, ReadOptions{MaxRowsPerSecond: 100}, func([][]byte) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 100 {
		t.Fatalf("cancelled read: n=%d err=%v", n, err)
	}
}

// The count handed to Counted is the range's rows in the read's own
// snapshot: rows inserted and deleted in the range by another session
// once the snapshot started change neither it nor the rows read, so the
// two always agree.
func TestReadRange_CountedInTheReadsSnapshot(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE counted (id BIGINT PRIMARY KEY, v INT)",
		"INSERT INTO counted SELECT seq * 2, seq FROM seq_1_to_5000")
	tb := discoverOne(t, db, name, "counted")
	rs, err := PlanRanges(context.Background(), db, tb, 1000)
	if err != nil || len(rs) < 3 || rs[1].Lo == nil || rs[1].Hi == nil {
		t.Fatalf("PlanRanges = %+v, %v", rs, err)
	}
	r := rs[1]
	lo, hi := r.Lo[0], r.Hi[0]
	var before int64
	if err := db.QueryRow("SELECT COUNT(*) FROM counted WHERE id > ? AND id <= ?", lo, hi).Scan(&before); err != nil {
		t.Fatal(err)
	}
	counted := int64(-1)
	changed := false
	opts := ReadOptions{
		InSnapshot: func(context.Context, *sql.Conn) error {
			// Another session changes the range after the snapshot, before the rows.
			mustExec(t, db, "INSERT INTO counted SELECT id + 1, -1 FROM counted WHERE id > "+lo+" ORDER BY id LIMIT 2",
				"DELETE FROM counted WHERE id > "+lo+" AND v > 0 ORDER BY id LIMIT 1")
			changed = true
			return nil
		},
		Counted: func(n int64) { counted = n },
	}
	read, err := ReadRange(context.Background(), db, tb, r, opts, func([][]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !changed || counted != before || read != before {
		t.Errorf("range %d: counted %d, read %d; want both %d (the snapshot's rows)", r.Index, counted, read, before)
	}
	var now int64
	if err := db.QueryRow("SELECT COUNT(*) FROM counted WHERE id > ? AND id <= ?", lo, hi).Scan(&now); err != nil || now != before+1 {
		t.Fatalf("the concurrent changes did not land: %d rows now, %v", now, err)
	}
}

// A read that its callback stops hands over no count: the rows it handed
// are not the range's, and a count would make a part look complete.
func TestReadRange_NoCountForAStoppedRead(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE counted_stop (id BIGINT PRIMARY KEY, v INT)",
		"INSERT INTO counted_stop SELECT seq, seq FROM seq_1_to_300")
	tb := discoverOne(t, db, name, "counted_stop")
	stop := errors.New("stop")
	counts := 0
	n, err := ReadRange(context.Background(), db, tb, Range{}, ReadOptions{Counted: func(int64) { counts++ }}, func([][]byte) error {
		return stop
	})
	if !errors.Is(err, stop) || n != 0 || counts != 0 {
		t.Fatalf("stopped read: n=%d err=%v, Counted called %d times; want the callback's error and no count", n, err, counts)
	}
	var whole int64 = -1
	n, err = ReadRange(context.Background(), db, tb, Range{}, ReadOptions{Counted: func(c int64) { whole = c }}, func([][]byte) error { return nil })
	if err != nil || n != 300 || whole != 300 {
		t.Fatalf("whole read: n=%d err=%v counted=%d; want 300 rows counted 300", n, err, whole)
	}
}
