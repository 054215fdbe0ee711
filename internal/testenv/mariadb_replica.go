package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// StartReplica starts a second instance replicating from primary over GTID
// (MASTER_USE_GTID=slave_pos), read_only, and returns once both replication
// threads run. It is stopped at cleanup like any StartMariaDB instance.
func StartReplica(t testing.TB, primary *MariaDB) *MariaDB {
	t.Helper()
	primary.Exec(t,
		"CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl'",
		"GRANT REPLICATION SLAVE, REPLICATION SLAVE ADMIN, BINLOG MONITOR ON *.* TO 'repl'@'%'")
	r := StartMariaDB(t, MariaDBOptions{})
	r.Exec(t,
		"SET GLOBAL read_only=ON",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='repl', "+
			"MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
			primary.Host, primary.Port),
		"START SLAVE")
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := slaveStatus(context.Background(), r.Root(t))
		if err != nil {
			t.Fatalf("replica status: %v", err)
		}
		if st["Slave_IO_Running"] == "Yes" && st["Slave_SQL_Running"] == "Yes" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica on %s not running after 30s: io=%s sql=%s io_error=%q sql_error=%q",
				r.Addr(), st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Last_IO_Error"], st["Last_SQL_Error"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitReplicaCaughtUp waits (up to 60 s) until m, a replica, has applied
// everything in primary's binlog: its gtid_slave_pos contains the primary's
// gtid_binlog_pos.
func (m *MariaDB) WaitReplicaCaughtUp(t testing.TB, primary *MariaDB) {
	t.Helper()
	var target string
	if err := primary.Root(t).QueryRow("SELECT @@gtid_binlog_pos").Scan(&target); err != nil {
		t.Fatalf("primary gtid_binlog_pos: %v", err)
	}
	if target == "" {
		return
	}
	// MASTER_GTID_WAIT returns 0 once the position is reached, -1 on timeout.
	var res int
	if err := m.Root(t).QueryRow("SELECT MASTER_GTID_WAIT(?, 60)", target).Scan(&res); err != nil {
		t.Fatalf("replica MASTER_GTID_WAIT(%s): %v", target, err)
	}
	if res != 0 {
		st, _ := slaveStatus(context.Background(), m.Root(t))
		t.Fatalf("replica %s did not reach %s in 60s: io=%s sql=%s err=%q", m.Addr(), target,
			st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Last_SQL_Error"])
	}
}

// slaveStatus returns SHOW SLAVE STATUS as column name -> text (empty map when
// the server is no replica).
func slaveStatus(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if !rows.Next() {
		return out, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, c := range cols {
		out[c] = strings.TrimSpace(vals[i].String)
	}
	return out, rows.Err()
}
