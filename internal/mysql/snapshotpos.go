package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
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

// Earlier reports whether p is before q in the source's history: per
// replication domain of their GTID positions, p's sequence number is
// smaller in some domain and larger in none. GTIDs name the same
// transactions on every server of a GTID-strict topology, so positions
// read on a primary and on its replica compare. An unparsable position is
// never earlier.
func (p SnapshotPos) Earlier(q SnapshotPos) bool {
	a, okA := gtidSeqs(p.GTID)
	b, okB := gtidSeqs(q.GTID)
	if !okA || !okB {
		return false
	}
	smaller := false
	for d, sa := range a {
		sb, ok := b[d]
		if !ok || sa > sb {
			return false // p is further in d (q has not begun it)
		}
		smaller = smaller || sa < sb
	}
	for d := range b {
		if _, ok := a[d]; !ok {
			smaller = true // q began a domain p has not
		}
	}
	return smaller
}

// gtidSeqs maps each domain of a MariaDB GTID position to its sequence
// number.
func gtidSeqs(pos string) (map[string]uint64, bool) {
	out := map[string]uint64{}
	for _, g := range strings.Split(pos, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		parts := strings.Split(g, "-")
		if len(parts) != 3 {
			return nil, false
		}
		seq, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil {
			return nil, false
		}
		out[parts[0]] = seq
	}
	return out, true
}
