package cdc

import (
	"fmt"
	"strings"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/schema"
)

// Table is one landed stream: the source table as discovered when the
// reader started, the stream's configuration, and where its change log goes.
type Table struct {
	Stream config.Stream
	Source schema.Table
	// Name is the change-log table's name, the stream's alias plus "_cdc".
	Name string
}

// key identifies a table the way binlog table-map events name it.
func key(database, table string) string {
	return strings.ToLower(database) + "." + strings.ToLower(table)
}

// Tables is the set of landed tables by their binlog name.
type Tables map[string]*Table

// Lookup returns the landed table database.table, or nil when its changes
// are not landed.
func (t Tables) Lookup(database, table string) *Table { return t[key(database, table)] }

// ChangeLogName is the change-log table beside a stream's table.
func ChangeLogName(stream config.Stream) string {
	name := stream.AliasName
	if name == "" {
		name = stream.Name
	}
	return name + "_cdc"
}

// checkColumns verifies that a table-map event still describes the table
// as discovered: same column count and, when the server logs them
// (binlog_row_metadata=FULL), the same names. A change means DDL ran since
// the reader started.
func (t *Table) checkColumns(names []string, count int) error {
	if count != len(t.Source.Columns) {
		return &SchemaChangedError{table: t, Table: t.Source.Namespace + "." + t.Source.Name,
			Detail: fmt.Sprintf("the binlog has %d columns, the table had %d when the reader started", count, len(t.Source.Columns))}
	}
	if len(names) == 0 {
		return fmt.Errorf("table %s.%s: the binlog carries no column names: set binlog_row_metadata=FULL on the server read: %w",
			t.Source.Namespace, t.Source.Name, ErrServerSettings)
	}
	for i, n := range names {
		if !strings.EqualFold(n, t.Source.Columns[i].Name) {
			return &SchemaChangedError{table: t, Table: t.Source.Namespace + "." + t.Source.Name,
				Detail: fmt.Sprintf("column %d is %s in the binlog, %s when the reader started", i+1, n, t.Source.Columns[i].Name)}
		}
	}
	return nil
}

// grown checks that now, the table as discovered again, only adds columns
// after those of t (same names and types in the same order): the change
// log can then go on with the new columns. Anything else is final.
func (t *Table) grown(now schema.Table) error {
	name := t.Source.Namespace + "." + t.Source.Name
	for i, c := range t.Source.Columns {
		if i >= len(now.Columns) {
			return &SchemaChangedError{Table: name, Final: true,
				Detail: fmt.Sprintf("column %s was dropped: the stream stops, as a sync stops on drift; land it again from a backfill", c.Name)}
		}
		n := now.Columns[i]
		if !strings.EqualFold(n.Name, c.Name) || n.ColumnType != c.ColumnType {
			return &SchemaChangedError{Table: name, Final: true,
				Detail: fmt.Sprintf("column %d was %s %s and is now %s %s: the stream stops, as a sync stops on drift", i+1, c.Name, c.ColumnType, n.Name, n.ColumnType)}
		}
	}
	if len(now.Columns) == len(t.Source.Columns) {
		return &SchemaChangedError{Table: name, Final: true,
			Detail: "the binlog's columns differ from the table's, which has not changed since the reader started"}
	}
	return nil
}
