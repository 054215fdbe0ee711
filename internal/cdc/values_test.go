package cdc

import (
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
