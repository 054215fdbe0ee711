package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// OpRead marks a row of the initial backfill (Debezium's "r").
const OpRead Op = 'r'

// backfillSeq is the _acode_txn_seq of a backfill row: a range's rows are
// the table as of its snapshot position, so they sort after every change
// of the transaction at that position and before any later one.
const backfillSeq = math.MaxInt32

// Backfill is how a stream without a checkpoint gets its initial content:
// its primary-key ranges read from the pool DB returns (the server read
// now, after a failover too), each in its own consistent snapshot whose
// exact binlog position is taken inside it.
type Backfill struct {
	DB        func(ctx context.Context) (*sql.DB, error)
	ChunkRows int
}

// rangeFile is one backfilled range's file and the position of its snapshot.
type rangeFile struct {
	lf  *logFile
	pos Position
	at  mysql.SnapshotPos
}

// backfill lands the table's current rows in the change log as `r` rows,
// range by range, commits them in one manifest write, and returns the
// stream's starting position: the earliest of the ranges' snapshots, so
// the binlog from there covers every change any range missed. Changes a
// later range already holds are landed too; they sort before its rows.
func (l *landing) backfill(ctx context.Context, b *Backfill) (Position, error) {
	t := l.table
	db, err := b.DB(ctx)
	if err != nil {
		return nil, fmt.Errorf("backfill %s: %w", t.Name, err)
	}
	ranges, err := mysql.PlanRanges(ctx, db, t.Source, b.ChunkRows)
	if err != nil {
		return nil, fmt.Errorf("backfill %s: %w", t.Name, err)
	}
	started := time.Now().UTC()
	day := started.Truncate(24 * time.Hour)
	var files []rangeFile
	defer func() {
		for _, f := range files {
			f.lf.discard()
		}
	}()
	var positions []Position
	for _, r := range ranges {
		f, err := l.backfillRange(ctx, db, r, day, started)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		positions = append(positions, f.pos)
	}
	start := Earliest(positions)
	if err := l.commitBackfill(ctx, files, day, start); err != nil {
		return nil, err
	}
	return start, nil
}

func (l *landing) backfillRange(ctx context.Context, db *sql.DB, r mysql.Range, day, started time.Time) (rangeFile, error) {
	lf, err := newLogFile(l.sink.SpoolDir, l.schema, day, started, l.sink.Options)
	if err != nil {
		return rangeFile{}, err
	}
	f := rangeFile{lf: lf}
	txn := &Txn{CommitTime: started.Truncate(time.Second)}
	opts := mysql.ReadOptions{InSnapshot: func(ctx context.Context, conn *sql.Conn) error {
		at, err := mysql.SnapshotPosition(ctx, conn)
		if err != nil {
			return err
		}
		if f.pos, err = ParsePosition(at.GTID); err != nil {
			return fmt.Errorf("snapshot position: %w", err)
		}
		f.at = at
		txn.GTID = lowestDomain(f.pos)
		txn.LogFile, txn.LogPos = at.File, uint32(at.Pos)
		return nil
	}}
	_, err = mysql.ReadRange(ctx, db, l.table.Source, r, opts, func(row [][]byte) error {
		if err := lf.write(row, txn, OpRead, backfillSeq); err != nil {
			return fmt.Errorf("backfill %s range %d: %w", l.table.Name, r.Index, err)
		}
		lf.rows++
		return nil
	})
	if err != nil {
		lf.discard()
		return rangeFile{}, fmt.Errorf("backfill %s: %w", l.table.Name, err)
	}
	lf.first, lf.last, lf.txns = txn.GTID, txn.GTID, 1
	return f, nil
}

// lowestDomain is the GTID a backfill row carries: the snapshot's GTID in
// its lowest domain (the only one, in most topologies).
func lowestDomain(p Position) GTID {
	first := true
	var g GTID
	for d, x := range p {
		if first || d < g.Domain {
			g, first = x, false
		}
	}
	return g
}

// commitBackfill stages every range's file and commits them together:
// a backfill is landed whole or not at all, and read again after a crash.
func (l *landing) commitBackfill(ctx context.Context, files []rangeFile, day time.Time, start Position) error {
	lay := l.layoutFor(day)
	var staged []snapshot.StagedPart
	for i, f := range files {
		sha, err := f.lf.close()
		if err != nil {
			return err
		}
		name := backfillName(lay.FilePrefix, day, i, f.pos)
		key := layout.Join(l.sink.stagingPrefix(), l.table.Name, name)
		if err := storage.PutFile(ctx, l.sink.Store, key, f.lf.f, f.lf.size); err != nil {
			return fmt.Errorf("stage backfill file %s: %w", name, err)
		}
		staged = append(staged, snapshot.StagedPart{StagingKey: key, Name: name, Rows: f.lf.rows, Bytes: f.lf.size, SHA256: sha})
	}
	cp := l.sink.checkpoints
	last := layout.Join(lay.Partition, staged[len(staged)-1].Name)
	if err := cp.setPending(ctx, l.table.Name, &pending{Manifest: lay.ManifestKey(), File: last, Position: start.String()}); err != nil {
		return err
	}
	if _, _, err := snapshot.RepairPartition(ctx, l.sink.Store, lay); err != nil {
		return fmt.Errorf("repair %s: %w", lay.Partition, err)
	}
	l.repaired[lay.Partition] = true
	if _, err := snapshot.Publish(ctx, l.sink.Store, lay, l.manifest(start), staged, true); err != nil {
		return fmt.Errorf("commit backfill of %s: %w", l.table.Name, err)
	}
	// Committed: the checkpoint and the pending record are settled even if
	// the reader is being stopped, or the stop would report a failure.
	ctx = context.WithoutCancel(ctx)
	if err := snapshot.DeleteStaged(ctx, l.sink.Store, staged); err != nil {
		l.sink.Log.Warn("delete staged backfill files", "err", err)
	}
	if err := cp.save(ctx, l.table.Name, start); err != nil {
		return err
	}
	l.pos = start.Clone()
	var rows int64
	for _, p := range staged {
		rows += p.Rows
	}
	l.sink.Log.Info("cdc backfill committed", "table", l.table.Name, "ranges", len(files), "rows", rows, "start", start.String())
	return cp.setPending(ctx, l.table.Name, nil)
}

// backfillName names a range's file by its index and snapshot position.
func backfillName(prefix string, day time.Time, index int, pos Position) string {
	if prefix != "" && prefix[len(prefix)-1] != '_' {
		prefix += "_"
	}
	g := lowestDomain(pos)
	return prefix + day.Format("20060102") + "_backfill_" + strconv.Itoa(index) + "_" + g.String() + ".parquet"
}
