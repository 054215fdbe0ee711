package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/schema"
)

// TableNotFoundError is returned by Discover for a table the database does
// not have (or the user cannot see).
type TableNotFoundError struct {
	Database, Table string
}

func (e *TableNotFoundError) Error() string {
	return fmt.Sprintf("table %s.%s not found (or not visible to this user)", e.Database, e.Table)
}

// Unwrap makes a missing table a schema change (failure.Classify).
func (e *TableNotFoundError) Unwrap() error { return failure.ErrSchemaChange }

// Discover describes tables of database from information_schema, in the
// order given; no tables means every base table and view of the database.
func Discover(ctx context.Context, db *sql.DB, database string, tables []string) ([]schema.Table, error) {
	if len(tables) == 0 {
		var err error
		if tables, err = listTables(ctx, db, database); err != nil {
			return nil, err
		}
	}
	out := make([]schema.Table, 0, len(tables))
	for _, name := range tables {
		t, err := discoverTable(ctx, db, database, name)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func listTables(ctx context.Context, db *sql.DB, database string) ([]string, error) {
	rows, err := db.QueryContext(ctx,
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME", database)
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", database, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list tables of %s: %w", database, err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", database, err)
	}
	return names, nil
}

func discoverTable(ctx context.Context, db *sql.DB, database, name string) (schema.Table, error) {
	t := schema.Table{Namespace: database, Name: name}
	var estimated sql.NullInt64
	err := db.QueryRowContext(ctx,
		"SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		database, name).Scan(&t.Name, &estimated)
	if err == sql.ErrNoRows {
		return t, &TableNotFoundError{Database: database, Table: name}
	}
	if err != nil {
		return t, fmt.Errorf("discover %s.%s: %w", database, name, err)
	}
	t.EstimatedRows = estimated.Int64
	if t.Columns, err = discoverColumns(ctx, db, database, t.Name); err != nil {
		return t, fmt.Errorf("discover %s.%s columns: %w", database, name, err)
	}
	if t.PrimaryKey, err = discoverPrimaryKey(ctx, db, database, t.Name); err != nil {
		return t, fmt.Errorf("discover %s.%s primary key: %w", database, name, err)
	}
	return t, nil
}

const columnsQuery = `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
	NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, CHARACTER_SET_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`

func discoverColumns(ctx context.Context, db *sql.DB, database, table string) ([]schema.Column, error) {
	rows, err := db.QueryContext(ctx, columnsQuery, database, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []schema.Column
	for rows.Next() {
		var (
			c                           schema.Column
			nullable                    string
			numPrec, numScale, timePrec sql.NullInt64
			maxLen                      sql.NullInt64
			charset                     sql.NullString
		)
		if err := rows.Scan(&c.Name, &c.DataType, &c.ColumnType, &nullable,
			&numPrec, &numScale, &timePrec, &maxLen, &charset); err != nil {
			return nil, err
		}
		c.DataType = strings.ToLower(c.DataType)
		c.ColumnType = strings.ToLower(c.ColumnType)
		c.Nullable = nullable == "YES"
		c.Unsigned = strings.Contains(c.ColumnType, "unsigned")
		c.MaxLength = maxLen.Int64
		c.Charset = charset.String
		switch c.DataType {
		case "decimal":
			c.Precision, c.Scale = int(numPrec.Int64), int(numScale.Int64)
		case "datetime", "timestamp", "time":
			c.Precision = int(timePrec.Int64)
		case "bit":
			c.Precision = bitWidth(c.ColumnType)
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

var bitRE = regexp.MustCompile(`^bit\((\d+)\)`)

// bitWidth reads n from "bit(n)"; plain "bit" is BIT(1).
func bitWidth(columnType string) int {
	if m := bitRE.FindStringSubmatch(columnType); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 1
}

func discoverPrimaryKey(ctx context.Context, db *sql.DB, database, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, database, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pk []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		pk = append(pk, c)
	}
	return pk, rows.Err()
}
