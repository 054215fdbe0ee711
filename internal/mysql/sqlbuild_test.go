package mysql

import (
	"reflect"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

func TestSelectRangeSQL_Strings(t *testing.T) {
	t.Parallel()
	tb := schema.Table{Namespace: "acode", Name: "we`ird", PrimaryKey: []string{"a", "b"}, Columns: []schema.Column{
		{Name: "a", DataType: "bigint", Unsigned: true}, {Name: "b", DataType: "decimal", Precision: 10, Scale: 2},
		{Name: "v", DataType: "varchar"}, {Name: "f", DataType: "float"},
	}}
	q, args, err := selectRangeSQL(tb, Range{Lo: []string{"18446744073709551615", "1.50"}, Hi: []string{"20", "3.00"}}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT `a`, `b`, `v`, `f` * 1e0 FROM `acode`.`we``ird` WHERE " +
		"(`a` >= ? AND (`a` > ? OR (`a` = ? AND `b` > CAST(? AS DECIMAL(10,2))))) AND " +
		"(`a` <= ? AND (`a` < ? OR (`a` = ? AND `b` <= CAST(? AS DECIMAL(10,2))))) ORDER BY `a`, `b`"
	if q != want {
		t.Fatalf("query\n got %s\nwant %s", q, want)
	}
	u := uint64(18446744073709551615)
	wantArgs := []any{u, u, u, "1.50", uint64(20), uint64(20), uint64(20), "3.00"}
	if !reflect.DeepEqual(args, wantArgs) {
		t.Fatalf("args %#v, want %#v", args, wantArgs)
	}

	noKey := schema.Table{Name: "t", Columns: tb.Columns}
	if q, _, _ := selectRangeSQL(noKey, Range{}, ReadOptions{}); q != "SELECT `a`, `b`, `v`, `f` * 1e0 FROM `t`" {
		t.Fatalf("no-key query %s", q)
	}
	if _, _, err := selectRangeSQL(tb, Range{Lo: []string{"x", "1"}}, ReadOptions{}); err == nil {
		t.Fatal("a non-integer bound for a BIGINT key was accepted")
	}
}
