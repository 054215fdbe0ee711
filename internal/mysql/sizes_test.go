package mysql

import (
	"context"
	"errors"
	"testing"
)

func TestTableSizes_GrowWithTheTableOnMariaDB(t *testing.T) {
	t.Parallel()
	_, db, name := openShared(t)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200), KEY by_v (v)) ENGINE=InnoDB",
		"INSERT INTO t SELECT seq, REPEAT('x', 150) FROM seq_1_to_100", "ANALYZE TABLE t")
	ctx := context.Background()
	before, err := TableSizes(ctx, db, name, []string{"t"})
	if err != nil || len(before) != 1 || before[0].Table != "t" || before[0].DataLength == 0 {
		t.Fatalf("before: %+v, %v", before, err)
	}
	mustExec(t, db, "INSERT INTO t SELECT seq, REPEAT('y', 150) FROM seq_101_to_20000", "ANALYZE TABLE t")
	after, err := TableSizes(ctx, db, name, []string{"t"})
	if err != nil {
		t.Fatal(err)
	}
	if a := after[0]; a.Rows < 10000 || a.DataLength <= before[0].DataLength || a.IndexLength <= before[0].IndexLength {
		t.Errorf("after 19900 more rows: %+v (before %+v)", a, before[0])
	}
	var nf *TableNotFoundError
	if _, err := TableSizes(ctx, db, name, []string{"t", "gone"}); !errors.As(err, &nf) || nf.Table != "gone" {
		t.Errorf("a missing table: %v, want TableNotFoundError naming it", err)
	}
}
