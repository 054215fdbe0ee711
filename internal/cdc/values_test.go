package cdc

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

func TestTextValue_MatchesTheTextProtocol(t *testing.T) {
	labels := []string{"autorizada", "cancelada", "denegada"}
	for _, tt := range []struct {
		col    schema.Column
		v      any
		labels []string
		want   string
	}{
		{schema.Column{DataType: "tinyint", Unsigned: true}, int8(-1), nil, "255"},
		{schema.Column{DataType: "mediumint", Unsigned: true}, int32(-1), nil, "16777215"},
		{schema.Column{DataType: "int"}, int32(-5), nil, "-5"},
		{schema.Column{DataType: "bigint", Unsigned: true}, int64(-1), nil, "18446744073709551615"},
		{schema.Column{DataType: "bigint", Unsigned: true}, uint64(1 << 63), nil, "9223372036854775808"},
		{schema.Column{DataType: "enum"}, int64(2), labels, "cancelada"},
		{schema.Column{DataType: "enum"}, int64(0), labels, ""},
		{schema.Column{DataType: "set"}, int64(5), labels, "autorizada,denegada"},
		{schema.Column{DataType: "bit", Precision: 12}, int64(0xABC), nil, "\x0a\xbc"},
		{schema.Column{DataType: "year"}, 2024, nil, "2024"},
		{schema.Column{DataType: "double"}, 0.1, nil, "0.1"},
		{schema.Column{DataType: "float"}, float32(1.5), nil, "1.5"},
		{schema.Column{DataType: "decimal"}, "-12.50", nil, "-12.50"},
		{schema.Column{DataType: "blob"}, []byte{0, 1}, nil, "\x00\x01"},
	} {
		got, err := textValue(tt.col, tt.v, tt.labels)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s %T(%v) = %q, %v; want %q", tt.col.DataType, tt.v, tt.v, got, err, tt.want)
		}
	}
	if got, err := textValue(schema.Column{DataType: "int"}, nil, nil); got != nil || err != nil {
		t.Errorf("NULL = %q, %v", got, err)
	}
	if _, err := textValue(schema.Column{DataType: "enum"}, int64(9), labels); err == nil {
		t.Error("an enum index past the labels is accepted")
	}
}

// TestTextRow_ArenaKeepsEveryValueApart fills several arena blocks with
// rows of NULLs, empty strings, numbers, long ENUM labels and values bigger
// than a block, then checks every row once all are made: no value was
// overwritten or moved by a later one, NULL stays nil and ” stays empty.
func TestTextRow_ArenaKeepsEveryValueApart(t *testing.T) {
	long := strings.Repeat("x", 40)
	tbl := &Table{Source: schema.Table{Name: "t", Columns: []schema.Column{
		{Name: "id", DataType: "int"}, {Name: "s", DataType: "varchar"}, {Name: "e", DataType: "enum"}, {Name: "b", DataType: "blob"},
	}}}
	a := newAssembler(nil, 0)
	a.cur = &Txn{}
	a.labels = map[int][]string{2: {"a", long}}
	type want struct{ id, s, e, b string }
	var rows [][][]byte
	var wants []want
	for i := range 20_000 {
		s, b := any(fmt.Sprintf("v%d", i)), any(nil)
		w := want{id: strconv.Itoa(i), s: s.(string), e: long, b: "<nil>"}
		switch i % 5 {
		case 1:
			s, w.s = "", ""
		case 2:
			s, w.s = nil, "<nil>"
		}
		if i%1000 == 3 {
			big := strings.Repeat(strconv.Itoa(i%10), 70<<10) // past a block
			b, w.b = []byte(big), big
		}
		row, _, err := a.textRow(tbl, []any{int32(i), s, int64(2), b})
		if err != nil {
			t.Fatal(err)
		}
		rows, wants = append(rows, row), append(wants, w)
	}
	show := func(v []byte) string {
		if v == nil {
			return "<nil>"
		}
		return string(v)
	}
	for i, r := range rows {
		got := want{show(r[0]), show(r[1]), show(r[2]), show(r[3])}
		if got != wants[i] {
			t.Fatalf("row %d = %.60v, want %.60v", i, got, wants[i])
		}
		if wants[i].s == "" && r[1] == nil {
			t.Fatalf("row %d: an empty string became NULL", i)
		}
	}
}
