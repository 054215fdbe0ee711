package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Finding is one server setting or privilege a CDC reader needs: what the
// server has, what it needs, and what to change when they differ.
type Finding struct {
	Check string `json:"check"`
	Have  string `json:"have"`
	Want  string `json:"want"`
	OK    bool   `json:"ok"`
	Fix   string `json:"fix,omitempty"`
}

// minRetention is the binlog retention below which a reader that stops for
// a night may find its checkpoint purged.
const minRetention = 24 * time.Hour

// CheckServer checks, on the server a reader takes the binlog from, every
// setting and privilege the change log depends on (serverID is the
// reader's cdc.server_id). A query the server refuses is an error.
func CheckServer(ctx context.Context, db *sql.DB, serverID int) ([]Finding, error) {
	var logBin, format, image, metadata, strict, slaveUpdates, sid string
	err := db.QueryRowContext(ctx, `SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata,
		@@gtid_strict_mode, @@log_slave_updates, @@server_id`).Scan(&logBin, &format, &image, &metadata, &strict, &slaveUpdates, &sid)
	if err != nil {
		return nil, fmt.Errorf("read binlog settings: %w", err)
	}
	out := []Finding{
		setting("log_bin", onOff(logBin), "ON", "start the server with --log-bin"),
		setting("binlog_format", format, "ROW", "SET GLOBAL binlog_format = 'ROW' (and binlog_format=ROW in the server's configuration)"),
		setting("binlog_row_image", image, "FULL", "SET GLOBAL binlog_row_image = 'FULL' (and in the configuration)"),
		setting("binlog_row_metadata", metadata, "FULL", "SET GLOBAL binlog_row_metadata = 'FULL' (and in the configuration): column names, signedness and ENUM/SET labels"),
		setting("gtid_strict_mode", onOff(strict), "ON", "SET GLOBAL gtid_strict_mode = ON (and in the configuration): a failover continues by GTID only then"),
	}
	replica, err := isReplica(ctx, db)
	if err != nil {
		return nil, err
	}
	if replica {
		out = append(out, setting("log_slave_updates", onOff(slaveUpdates), "ON", "start the replica with --log-slave-updates: without it the replica's binlog lacks the primary's transactions"))
	}
	out = append(out, Finding{Check: "server_id", Have: sid, Want: "not " + strconv.Itoa(serverID), OK: sid != strconv.Itoa(serverID),
		Fix: "set cdc.server_id in acode.yaml to an id no server or other reader uses"})
	ret, err := retention(ctx, db)
	if err != nil {
		return nil, err
	}
	out = append(out, ret)
	grants, err := grantFindings(ctx, db)
	if err != nil {
		return nil, err
	}
	return append(out, grants...), nil
}

func setting(name, have, want, fix string) Finding {
	f := Finding{Check: name, Have: have, Want: want, OK: strings.EqualFold(have, want)}
	if !f.OK {
		f.Fix = fix
	}
	return f
}

func onOff(v string) string {
	switch strings.ToUpper(v) {
	case "1", "ON":
		return "ON"
	case "0", "OFF":
		return "OFF"
	}
	return v
}

func isReplica(ctx context.Context, db *sql.DB) (bool, error) {
	rows, err := db.QueryContext(ctx, "SHOW ALL SLAVES STATUS")
	if err != nil {
		return false, nil // not allowed to look (no SLAVE MONITOR): treated as a primary
	}
	defer rows.Close()
	return rows.Next(), rows.Err()
}

// retention checks that the binlog is kept long enough (0: never purged).
func retention(ctx context.Context, db *sql.DB) (Finding, error) {
	var seconds float64
	err := db.QueryRowContext(ctx, "SELECT @@binlog_expire_logs_seconds").Scan(&seconds)
	if err != nil {
		var days float64
		if err2 := db.QueryRowContext(ctx, "SELECT @@expire_logs_days").Scan(&days); err2 != nil {
			return Finding{}, fmt.Errorf("read binlog retention: %w", errors.Join(err, err2))
		}
		seconds = days * 86400
	}
	f := Finding{Check: "binlog retention", Want: "0 (kept) or at least " + minRetention.String()}
	if seconds == 0 {
		f.Have, f.OK = "kept until purged by hand", true
		return f, nil
	}
	d := time.Duration(seconds) * time.Second
	f.Have, f.OK = d.String(), d >= minRetention
	if !f.OK {
		f.Fix = "SET GLOBAL binlog_expire_logs_seconds = 604800 (a week): a reader stopped longer than the retention must backfill again"
	}
	return f, nil
}

// grantFindings checks the reader's own privileges (SHOW GRANTS).
func grantFindings(ctx context.Context, db *sql.DB) ([]Finding, error) {
	rows, err := db.QueryContext(ctx, "SHOW GRANTS")
	if err != nil {
		return nil, fmt.Errorf("read the user's grants: %w", err)
	}
	defer rows.Close()
	var all strings.Builder
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("read the user's grants: %w", err)
		}
		all.WriteString(strings.ToUpper(g))
		all.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the user's grants: %w", err)
	}
	g := all.String()
	has := func(priv string) bool {
		return strings.Contains(g, "ALL PRIVILEGES ON *.*") || strings.Contains(g, priv)
	}
	var out []Finding
	for _, p := range []struct{ priv, why string }{
		{"REPLICATION SLAVE", "to read the binlog"},
		{"BINLOG MONITOR", "to read the binlog position (MariaDB; REPLICATION CLIENT on MySQL)"},
		{"SELECT", "to backfill the tables"},
		{"SLAVE MONITOR", "to tell a promoted server from a lagging replica before rewinding past a diverged primary's orphan transactions"},
	} {
		ok := has(p.priv) || (p.priv == "BINLOG MONITOR" && has("REPLICATION CLIENT")) ||
			(p.priv == "SLAVE MONITOR" && (has("REPLICA MONITOR") || has("SUPER")))
		f := Finding{Check: "privilege " + p.priv, Want: "granted", Have: "missing", OK: ok}
		if ok {
			f.Have = "granted"
		} else {
			f.Fix = "GRANT " + p.priv + " ON *.* TO the source's user (" + p.why + ")"
		}
		out = append(out, f)
	}
	return out, nil
}
