package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// ReplicaStatus is what a health check needs from SHOW REPLICA STATUS: are
// the threads running, how far behind, and why not.
type ReplicaStatus struct {
	// IsReplica is false when the server replicates from nowhere.
	IsReplica  bool
	IORunning  string // "Yes", "No" or "Connecting"
	SQLRunning string // "Yes" or "No"
	// SecondsBehind is nil when the server cannot tell (IO thread not
	// connected), which must read as "unknown", never as zero lag.
	SecondsBehind *int64
	LastIOErrno   int
	LastIOError   string
	LastSQLErrno  int
	LastSQLError  string
	SourceHost    string
	SourcePort    int
	GTIDIOPos     string // MariaDB Gtid_IO_Pos; MySQL Retrieved_Gtid_Set
}

// Running reports whether both replication threads run.
func (s ReplicaStatus) Running() bool { return s.IORunning == "Yes" && s.SQLRunning == "Yes" }

// Replication reads SHOW REPLICA STATUS (SHOW SLAVE STATUS on servers
// before the rename), under either generation's column names.
func Replication(ctx context.Context, db *sql.DB) (ReplicaStatus, error) {
	rows, err := db.QueryContext(ctx, "SHOW REPLICA STATUS")
	if isMySQLError(err, errParse) {
		rows, err = db.QueryContext(ctx, "SHOW SLAVE STATUS")
	}
	if err != nil {
		return ReplicaStatus{}, fmt.Errorf("replica status: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return ReplicaStatus{}, fmt.Errorf("replica status: %w", err)
	}
	if !rows.Next() {
		return ReplicaStatus{}, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return ReplicaStatus{}, fmt.Errorf("replica status: %w", err)
	}
	get := func(names ...string) sql.NullString {
		for _, n := range names {
			for i, c := range cols {
				if strings.EqualFold(c, n) {
					return vals[i]
				}
			}
		}
		return sql.NullString{}
	}
	atoi := func(v sql.NullString) int { n, _ := strconv.Atoi(v.String); return n }
	s := ReplicaStatus{
		IsReplica:    true,
		IORunning:    get("Replica_IO_Running", "Slave_IO_Running").String,
		SQLRunning:   get("Replica_SQL_Running", "Slave_SQL_Running").String,
		LastIOErrno:  atoi(get("Last_IO_Errno")),
		LastIOError:  get("Last_IO_Error").String,
		LastSQLErrno: atoi(get("Last_SQL_Errno")),
		LastSQLError: get("Last_SQL_Error").String,
		SourceHost:   get("Source_Host", "Master_Host").String,
		SourcePort:   atoi(get("Source_Port", "Master_Port")),
		GTIDIOPos:    get("Gtid_IO_Pos", "Retrieved_Gtid_Set").String,
	}
	if lag := get("Seconds_Behind_Source", "Seconds_Behind_Master"); lag.Valid {
		n, err := strconv.ParseInt(lag.String, 10, 64)
		if err == nil {
			s.SecondsBehind = &n
		}
	}
	return s, rows.Err()
}
