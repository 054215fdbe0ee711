package partfile

import (
	"strconv"
	"strings"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
)

// TableOf rebuilds the table a snapshot was written from, out of the
// columns its manifest records with their MySQL type. The primary key is
// not recorded, so PrimaryKey is empty.
func TableOf(m *snapshot.Manifest) schema.Table {
	t := schema.Table{Namespace: m.Namespace, Name: m.Stream}
	for _, c := range m.Schema.Columns {
		if c.MySQLType == "" {
			continue // Airbyte's metadata columns
		}
		t.Columns = append(t.Columns, ColumnOf(c.Name, c.MySQLType, c.Nullable))
	}
	return t
}

// ColumnOf parses a COLUMN_TYPE such as "decimal(15,2)", "datetime(6)" or
// "bigint(20) unsigned" back into a schema.Column.
func ColumnOf(name, columnType string, nullable bool) schema.Column {
	ct := strings.ToLower(columnType)
	c := schema.Column{Name: name, ColumnType: ct, Nullable: nullable, Unsigned: strings.Contains(ct, " unsigned")}
	base, args, _ := strings.Cut(ct, "(")
	c.DataType = strings.TrimSpace(strings.Fields(base + " ")[0])
	args, _, _ = strings.Cut(args, ")")
	nums := strings.Split(args, ",")
	switch c.DataType {
	case "decimal", "numeric":
		c.Precision, _ = strconv.Atoi(strings.TrimSpace(nums[0]))
		if len(nums) > 1 {
			c.Scale, _ = strconv.Atoi(strings.TrimSpace(nums[1]))
		}
		if c.Precision == 0 {
			c.Precision = 10 // MySQL's default DECIMAL is DECIMAL(10,0)
		}
	case "datetime", "timestamp", "time", "bit":
		c.Precision, _ = strconv.Atoi(strings.TrimSpace(nums[0]))
		if c.DataType == "bit" && c.Precision == 0 {
			c.Precision = 1
		}
	}
	return c
}
