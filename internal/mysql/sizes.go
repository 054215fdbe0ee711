package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// TableSize is what information_schema.TABLES says of one table: InnoDB's
// estimated row count and the bytes of its data and indexes. The figures
// are the server's own (estimates, refreshed by ANALYZE TABLE or InnoDB's
// statistics), recorded weekly to show growth without counting rows.
type TableSize struct {
	Table       string
	Rows        int64
	DataLength  int64
	IndexLength int64
}

// TableSizes returns the sizes of tables of database, in the order asked;
// a table the server does not list is a TableNotFoundError.
func TableSizes(ctx context.Context, db *sql.DB, database string, tables []string) ([]TableSize, error) {
	out := make([]TableSize, 0, len(tables))
	for _, name := range tables {
		var rows, data, index sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, database, name).Scan(&rows, &data, &index)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &TableNotFoundError{Database: database, Table: name}
		}
		if err != nil {
			return nil, fmt.Errorf("size of %s.%s: %w", database, name, err)
		}
		out = append(out, TableSize{Table: name, Rows: rows.Int64, DataLength: data.Int64, IndexLength: index.Int64})
	}
	return out, nil
}
