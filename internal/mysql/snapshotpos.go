package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// SnapshotPos is the binlog position a consistent snapshot sees: every
// transaction up to it is in the snapshot, none after it.
type SnapshotPos struct {
	File string
	Pos  int64
	GTID string // the same point as a GTID position (BINLOG_GTID_POS)
}

// SnapshotPosition reads, on conn inside START TRANSACTION WITH CONSISTENT
// SNAPSHOT, the exact binlog position of that snapshot: MariaDB's
// binlog_snapshot_file / binlog_snapshot_position status, turned into a GTID
// position by BINLOG_GTID_POS. Reading @@gtid_binlog_pos instead would race
// with the transactions committed since the snapshot began.
func SnapshotPosition(ctx context.Context, conn *sql.Conn) (SnapshotPos, error) {
	rows, err := conn.QueryContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return SnapshotPos{}, fmt.Errorf("snapshot binlog position: %w", err)
	}
	defer rows.Close()
	var p SnapshotPos
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return SnapshotPos{}, fmt.Errorf("snapshot binlog position: %w", err)
		}
		switch name {
		case "Binlog_snapshot_file", "binlog_snapshot_file":
			p.File = value
		case "Binlog_snapshot_position", "binlog_snapshot_position":
			if p.Pos, err = strconv.ParseInt(value, 10, 64); err != nil {
				return SnapshotPos{}, fmt.Errorf("snapshot binlog position %q: %w", value, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return SnapshotPos{}, fmt.Errorf("snapshot binlog position: %w", err)
	}
	if p.File == "" {
		return SnapshotPos{}, fmt.Errorf("snapshot binlog position: the server reports none (binary log off, or not MariaDB)")
	}
	var gtid sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", p.File, p.Pos).Scan(&gtid); err != nil {
		return SnapshotPos{}, fmt.Errorf("snapshot GTID position: %w", err)
	}
	p.GTID = gtid.String
	return p, nil
}
