package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

// Server identifies the server a sync read from and where its binlog
// stood; manifests record it so a reconciliation knows which data came
// from which endpoint and position.
type Server struct {
	Version      string `json:"version"`
	IsMariaDB    bool   `json:"is_mariadb"`
	Hostname     string `json:"hostname"`
	GTIDPosition string `json:"gtid_position,omitempty"` // @@gtid_binlog_pos (MariaDB) or @@gtid_executed (MySQL)
	BinlogFile   string `json:"binlog_file,omitempty"`
	BinlogPos    int64  `json:"binlog_pos,omitempty"`
	ReadOnly     bool   `json:"read_only"`
}

// MySQL error numbers ServerInfo tolerates: a user without BINLOG MONITOR
// (REPLICATION CLIENT) privileges or a server without binlog still syncs.
const (
	errSpecificAccessDenied = 1227
	errParse                = 1064
	errUnknownSystemVar     = 1193
)

// ServerInfo reads version, host name, read_only and the binlog position of
// the server db is connected to.
func ServerInfo(ctx context.Context, db *sql.DB) (Server, error) {
	var si Server
	var ro int
	if err := db.QueryRowContext(ctx, "SELECT VERSION(), @@hostname, @@read_only").Scan(&si.Version, &si.Hostname, &ro); err != nil {
		return si, fmt.Errorf("server info: %w", err)
	}
	si.ReadOnly = ro != 0
	si.IsMariaDB = strings.Contains(strings.ToLower(si.Version), "mariadb")
	gtidVar := "@@gtid_executed"
	if si.IsMariaDB {
		gtidVar = "@@gtid_binlog_pos"
	}
	var gtid sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT "+gtidVar).Scan(&gtid); err != nil && !isMySQLError(err, errUnknownSystemVar) {
		return si, fmt.Errorf("server info: %s: %w", gtidVar, err)
	}
	si.GTIDPosition = strings.ReplaceAll(gtid.String, "\n", "")
	file, pos, err := binlogStatus(ctx, db)
	if err != nil {
		return si, err
	}
	si.BinlogFile, si.BinlogPos = file, pos
	return si, nil
}

// binlogStatus is SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL
// 8.4+); empty without binlog or privilege.
func binlogStatus(ctx context.Context, db *sql.DB) (string, int64, error) {
	rows, err := db.QueryContext(ctx, "SHOW MASTER STATUS")
	if isMySQLError(err, errParse) {
		rows, err = db.QueryContext(ctx, "SHOW BINARY LOG STATUS")
	}
	if isMySQLError(err, errSpecificAccessDenied) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("server info: binlog status: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", 0, fmt.Errorf("server info: binlog status: %w", err)
	}
	if !rows.Next() {
		return "", 0, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", 0, fmt.Errorf("server info: binlog status: %w", err)
	}
	pos, _ := strconv.ParseInt(vals[1].String, 10, 64)
	return vals[0].String, pos, rows.Err()
}

func isMySQLError(err error, number uint16) bool {
	var me *mysqldriver.MySQLError
	return errors.As(err, &me) && me.Number == number
}
