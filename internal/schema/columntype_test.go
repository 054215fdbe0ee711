package schema

import "testing"

func TestColumnOf_ParsesColumnTypes(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]Column{
		"decimal(15,2)":       {DataType: "decimal", Precision: 15, Scale: 2},
		"bigint(20) unsigned": {DataType: "bigint", Unsigned: true},
		"datetime(6)":         {DataType: "datetime", Precision: 6},
		"varchar(14)":         {DataType: "varchar"},
		"enum('a','b')":       {DataType: "enum"},
		"date":                {DataType: "date"},
	} {
		c := ColumnOf("c", typ, true)
		if c.DataType != want.DataType || c.Precision != want.Precision || c.Scale != want.Scale || c.Unsigned != want.Unsigned {
			t.Errorf("%s: %+v", typ, c)
		}
	}
}
