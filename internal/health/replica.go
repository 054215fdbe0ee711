package health

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysqldriver"
)

// ReplicaStatus is what SHOW SLAVE STATUS (MariaDB, MySQL < 8.4) or SHOW
// REPLICA STATUS (MySQL 8) says about a replica.
type ReplicaStatus struct {
	IORunning     string `json:"io_running"`  // Yes, No, Connecting, Preparing
	SQLRunning    string `json:"sql_running"` // Yes, No
	SecondsBehind *int64 `json:"seconds_behind"`
	LastIOErrno   int    `json:"last_io_errno,omitempty"`
	LastIOError   string `json:"last_io_error,omitempty"`
	LastSQLErrno  int    `json:"last_sql_errno,omitempty"`
	LastSQLError  string `json:"last_sql_error,omitempty"`
}

// Running reports whether both replication threads run.
func (s *ReplicaStatus) Running() bool { return s.IORunning == "Yes" && s.SQLRunning == "Yes" }

// Connecting reports whether the IO thread is trying to reach the primary
// (it was not stopped by a person or by an error) while the SQL thread
// still applies what arrived: the state of a replica whose primary died.
func (s *ReplicaStatus) Connecting() bool {
	return s.IORunning == "Connecting" && s.SQLRunning == "Yes"
}

const (
	errParse                = 1064 // ER_PARSE_ERROR: MySQL 8.4 dropped SHOW SLAVE STATUS
	errSpecificAccessDenied = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR: a missing privilege
)

// ReadReplicaStatus runs SHOW SLAVE STATUS, or SHOW REPLICA STATUS where the
// former no longer parses. ok is false when the server is not a replica.
func ReadReplicaStatus(ctx context.Context, db *sql.DB) (st ReplicaStatus, ok bool, err error) {
	cols, err := showStatus(ctx, db, "SHOW SLAVE STATUS")
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) && me.Number == errParse {
		cols, err = showStatus(ctx, db, "SHOW REPLICA STATUS")
	}
	if err != nil {
		return ReplicaStatus{}, false, fmt.Errorf("replica status: %w", err)
	}
	if cols == nil {
		return ReplicaStatus{}, false, nil
	}
	get := func(names ...string) (string, bool) {
		for _, n := range names {
			if v, ok := cols[n]; ok {
				return v.String, v.Valid
			}
		}
		return "", false
	}
	st.IORunning, _ = get("Slave_IO_Running", "Replica_IO_Running")
	st.SQLRunning, _ = get("Slave_SQL_Running", "Replica_SQL_Running")
	if v, valid := get("Seconds_Behind_Master", "Seconds_Behind_Source"); valid {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st.SecondsBehind = &n
		}
	}
	errno, _ := get("Last_IO_Errno")
	st.LastIOErrno, _ = strconv.Atoi(errno)
	st.LastIOError, _ = get("Last_IO_Error")
	errno, _ = get("Last_SQL_Errno")
	st.LastSQLErrno, _ = strconv.Atoi(errno)
	st.LastSQLError, _ = get("Last_SQL_Error")
	return st, true, nil
}

// showStatus returns the first row of query by column name; nil when empty.
// MariaDB with several replication connections returns one row per
// connection; the first is the default one.
func showStatus(ctx context.Context, db *sql.DB, query string) (map[string]sql.NullString, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make(map[string]sql.NullString, len(names))
	for i, n := range names {
		out[n] = sql.NullString{String: strings.TrimSpace(vals[i].String), Valid: vals[i].Valid}
	}
	return out, rows.Err()
}

// ReplicationLag grades the backup replica: both threads must run and
// Seconds_Behind_Master stay under the thresholds. A stopped thread or an
// unknown (NULL) lag is critical: nobody can say how stale the backup is.
func ReplicationLag(ctx context.Context, db *sql.DB, target string, warn, crit time.Duration, now time.Time) Result {
	r := Result{Check: CheckReplicationLag, Target: target, Threshold: thresholds(warn, crit), Time: now}
	st, ok, err := ReadReplicaStatus(ctx, db)
	switch {
	case err != nil:
		r.Status, r.Err, r.Value = failure.Critical, err, "unknown"
		r.Message = fmt.Sprintf("cannot read the replica's status: %v", err)
		var me *mysqldriver.MySQLError
		if errors.As(err, &me) && me.Number == errSpecificAccessDenied {
			r.Message += "; grant the backup source's user SLAVE MONITOR (MariaDB 10.5+) or REPLICATION CLIENT (MySQL)"
		}
		return r
	case !ok:
		r.Status, r.Value = failure.Critical, "not a replica"
		r.Message = "SHOW SLAVE STATUS is empty: this server does not replicate from the primary"
		return r
	}
	r.Replica = &st
	if !st.Running() {
		r.Status, r.Value = failure.Critical, "unknown"
		r.Message = fmt.Sprintf("replication is not running: IO thread %s, SQL thread %s%s",
			orDash(st.IORunning), orDash(st.SQLRunning), st.lastErrors())
		return r
	}
	if st.SecondsBehind == nil {
		r.Status, r.Value = failure.Critical, "unknown"
		r.Message = "Seconds_Behind_Master is NULL: the replica cannot tell its lag" + st.lastErrors()
		return r
	}
	lag := time.Duration(*st.SecondsBehind) * time.Second
	r.Status = grade(lag, warn, crit)
	r.Value = lag.String()
	r.Message = fmt.Sprintf("replicating, %s behind the primary", lag)
	return r
}

func (s *ReplicaStatus) lastErrors() string {
	var b strings.Builder
	if s.LastIOErrno != 0 {
		fmt.Fprintf(&b, "; last IO error %d: %s", s.LastIOErrno, s.LastIOError)
	}
	if s.LastSQLErrno != 0 {
		fmt.Fprintf(&b, "; last SQL error %d: %s", s.LastSQLErrno, s.LastSQLError)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
