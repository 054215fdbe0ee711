package schema

import (
	"strconv"
	"strings"
)

// ColumnOf parses a COLUMN_TYPE such as "decimal(15,2)", "datetime(6)" or
// "bigint(20) unsigned" back into a Column: what a manifest records of a
// column is enough to read its files again.
func ColumnOf(name, columnType string, nullable bool) Column {
	ct := strings.ToLower(columnType)
	c := Column{Name: name, ColumnType: ct, Nullable: nullable, Unsigned: strings.Contains(ct, " unsigned")}
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
