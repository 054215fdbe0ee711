package sandbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// StartReplica starts a server under dir replicating from primary over GTID
// (MASTER_USE_GTID=slave_pos), read_only, and returns once both replication
// threads run. opts (at most one) configure the replica's own server,
// e.g. the binlog settings a CDC reader of the replica needs.
func StartReplica(dir string, primary *Server, opts ...Options) (*Server, error) {
	proot, err := primary.Root()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	for _, q := range []string{
		"CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl'",
		"GRANT REPLICATION SLAVE, REPLICATION SLAVE ADMIN, BINLOG MONITOR ON *.* TO 'repl'@'%'",
	} {
		if _, err := proot.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("prepare replication user on %s: %w", primary.Addr(), err)
		}
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	r, err := Start(dir, o)
	if err != nil {
		return nil, err
	}
	if err := r.follow(ctx, primary); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Server) follow(ctx context.Context, primary *Server) error {
	root, err := r.Root()
	if err != nil {
		return err
	}
	for _, q := range []string{
		"SET GLOBAL read_only=ON",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='repl', "+
			"MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
			primary.Host, primary.Port),
		"START SLAVE",
	} {
		if _, err := root.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("start replication on %s: %w", r.Addr(), err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := SlaveStatus(ctx, root)
		if err != nil {
			return fmt.Errorf("replica status: %w", err)
		}
		if st["Slave_IO_Running"] == "Yes" && st["Slave_SQL_Running"] == "Yes" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica on %s not running after 30s: io=%s sql=%s io_error=%q sql_error=%q",
				r.Addr(), st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Last_IO_Error"], st["Last_SQL_Error"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitCaughtUp waits (up to 60 s) until r, a replica, has applied everything
// in primary's binlog: its gtid_slave_pos contains the primary's
// gtid_binlog_pos.
func (r *Server) WaitCaughtUp(ctx context.Context, primary *Server) error {
	proot, err := primary.Root()
	if err != nil {
		return err
	}
	var target string
	if err := proot.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&target); err != nil {
		return fmt.Errorf("primary gtid_binlog_pos: %w", err)
	}
	if target == "" {
		return nil
	}
	root, err := r.Root()
	if err != nil {
		return err
	}
	// MASTER_GTID_WAIT returns 0 once the position is reached, -1 on timeout.
	var res int
	if err := root.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, 60)", target).Scan(&res); err != nil {
		return fmt.Errorf("replica MASTER_GTID_WAIT(%s): %w", target, err)
	}
	if res != 0 {
		st, _ := SlaveStatus(ctx, root)
		return fmt.Errorf("replica %s did not reach %s in 60s: io=%s sql=%s err=%q", r.Addr(), target,
			st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Last_SQL_Error"])
	}
	return nil
}

// SlaveStatus returns SHOW SLAVE STATUS as column name -> text (an empty map
// when the server is no replica).
func SlaveStatus(ctx context.Context, db *sql.DB) (map[string]string, error) {
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
