package cdc

import (
	"context"
	"database/sql"
	"fmt"
)

// BinlogFile is one binlog file a server holds and the GTID position at
// its start: every transaction of the file comes after it.
type BinlogFile struct {
	Name  string
	Start Position
}

// Retention is the binlog a server still holds, oldest file first (the
// start position of the first few only: see ReadRetention).
type Retention struct {
	Files []BinlogFile
	// Count is the number of binlog files, the active one included.
	Count int
}

// ReadRetention lists the server's binlog files (SHOW BINARY LOGS, which
// needs BINLOG MONITOR) with the start position of the oldest first ones
// (BINLOG_GTID_POS at the file's first event).
func ReadRetention(ctx context.Context, db *sql.DB, first int) (Retention, error) {
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return Retention{}, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	var names []string
	cols, _ := rows.Columns()
	for rows.Next() {
		dst := make([]any, len(cols))
		var name string
		dst[0] = &name
		for i := 1; i < len(dst); i++ {
			dst[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return Retention{}, fmt.Errorf("SHOW BINARY LOGS: %w", err)
		}
		names = append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Retention{}, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	if len(names) == 0 {
		return Retention{}, fmt.Errorf("%w: the server keeps no binlog (log_bin is off)", ErrServerSettings)
	}
	r := Retention{Count: len(names)}
	for _, name := range names[:min(first, len(names))] {
		var s sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, 4)", name).Scan(&s); err != nil {
			return Retention{}, fmt.Errorf("GTID position at the start of binlog %s: %w", name, err)
		}
		p, err := ParsePosition(s.String)
		if err != nil {
			return Retention{}, fmt.Errorf("GTID position at the start of binlog %s: %w", name, err)
		}
		r.Files = append(r.Files, BinlogFile{Name: name, Start: p})
	}
	return r, nil
}

// Purged reports whether the server no longer holds every transaction
// after p: some domain's oldest retained transaction is past it.
func (r Retention) Purged(p Position) bool {
	return len(r.Files) > 0 && p.Behind(r.Files[0].Start)
}

// Headroom is how many binlog files older than the one holding p's next
// transaction the server holds (0: p is in the oldest file, the next
// purge removes it), -1 when p is already purged, and ok false when p is
// past the files whose start was read or in the active file (which is
// never purged).
func (r Retention) Headroom(p Position) (files int, ok bool) {
	if r.Purged(p) {
		return -1, true
	}
	at := 0
	for i, f := range r.Files {
		if p.Behind(f.Start) {
			break
		}
		at = i
	}
	if at == len(r.Files)-1 || at >= r.Count-1 {
		return 0, false // in a file past those read, or the active one
	}
	return at, true
}

// RetentionCheck is how close a checkpoint is to the oldest binlog the
// server read holds.
type RetentionCheck struct {
	Server string
	Oldest string // the oldest binlog file
	// Headroom is the files held before the one the checkpoint needs (-1:
	// purged past it); Near is set when that is under the threshold.
	Headroom int
	Near     bool
}

// CheckRetention compares checkpoint with the binlog the source read
// holds: Near when fewer than threshold files precede the one it needs
// (a checkpoint in the active file is never near: that file is not purged).
func (o *Opened) CheckRetention(ctx context.Context, checkpoint Position, threshold int) (RetentionCheck, error) {
	server := o.live.server()
	ret, err := o.Retention(ctx, threshold+1)
	if err != nil {
		return RetentionCheck{}, err
	}
	c := RetentionCheck{Server: server, Oldest: ret.Files[0].Name}
	files, known := ret.Headroom(checkpoint)
	c.Headroom, c.Near = files, known && files < threshold
	if !known {
		c.Headroom = len(ret.Files) - 1 // at least
	}
	return c, nil
}

// Checkpoint is the earliest saved checkpoint of the reader's streams:
// where the binlog must still be readable from. ok is false before any.
func (o *Opened) Checkpoint(ctx context.Context) (p Position, ok bool, err error) {
	cp := checkpoints{store: o.Cursors, connection: o.Config.Connection}
	var positions []Position
	for _, t := range o.Tables {
		pos, found, err := cp.position(ctx, t.Name)
		if err != nil {
			return nil, false, err
		}
		if found {
			positions = append(positions, pos)
		}
	}
	if len(positions) == 0 {
		return nil, false, nil
	}
	return Earliest(positions), true, nil
}
