package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// Compaction turns a stream's change log into the bronze layout readers of
// a full refresh already know: STREAM/cog_dt_ingestion=DAY/ holds, for
// every primary key, the newest version of its row as of that day's change
// log, deletes left out. A day's snapshot is the previous day's snapshot
// plus the day's changes; a day whose change log holds a backfill starts
// from that backfill instead (it is the whole table), so a re-backfill
// after a purged binlog also drops the rows deleted while nothing was read.
//
// Changes are ordered by GTID (sequence, then position in the transaction)
// within a domain; a backfill row sorts at its range snapshot's GTID, as in
// the change log. The snapshot keeps the change log's columns, so it can be
// the base of the next day and readers see when and where each row last
// changed.
//
// A snapshot's manifest records what it was built from (Compaction): the
// change-log manifest's commit time and file count, and the base snapshot's
// commit time. Running compaction again rebuilds only the days whose inputs
// changed (late transactions, a rebuilt earlier day), so it is idempotent,
// and a run killed half-way is resumed by the next one.

// CompactLookback is how many days before the day compacted a base (a
// snapshot or a backfill) is looked for.
const CompactLookback = 400

// ErrNoCompactionBase means no snapshot or backfill precedes the day: the
// change log alone does not say what the table held before it.
var ErrNoCompactionBase = errors.New("no snapshot or backfill to compact from")

// ErrCompactionRunning says another process compacts this connection now.
var ErrCompactionRunning = errors.New("another acode compacts this connection")

// Compactor builds the snapshots of one CDC connection's streams.
type Compactor struct {
	Project *config.Project
	Log     *slog.Logger
	// State, when set, holds the connection's compaction lock (two
	// compactions of one partition would delete each other's parts) and
	// clears what a killed compaction left staged; the commands set it.
	State *state.Store
	// KeysPerPass bounds the primary keys held in memory at once
	// (cdc.compact_keys_per_pass when 0); see compact_merge.go.
	KeysPerPass int
}

// CompactResult is what compaction did for one stream and day.
type CompactResult struct {
	Stream    string `json:"stream"`
	Day       string `json:"day"`
	Did       string `json:"did"` // compacted | up to date | skipped: no primary key
	Rows      int64  `json:"rows"`
	Changes   int64  `json:"changes,omitempty"`
	Deleted   int64  `json:"deleted,omitempty"`
	Passes    int    `json:"passes,omitempty"`
	Base      string `json:"base,omitempty"` // the snapshot or backfill day it started from
	Partition string `json:"partition"`
}

// Outcomes of a day.
const (
	Compacted    = "compacted"
	UpToDate     = "up to date"
	SkippedNoKey = "skipped: no primary key"
)

// Compact brings the snapshots of every landed stream of connection up to
// day: each day from the stream's last current snapshot (or backfill) to
// day is rebuilt when its inputs changed.
func (c *Compactor) Compact(ctx context.Context, connection string, day time.Time) ([]CompactResult, error) {
	conn, err := c.Project.Connection(connection)
	if err != nil {
		return nil, err
	}
	streams, err := Streams(conn)
	if err != nil {
		return nil, err
	}
	store, err := connect.Store(ctx, conn.Destination)
	if err != nil {
		return nil, err
	}
	if c.State != nil {
		release, _, err := Hold(ctx, c.State, c.Project.Settings.StateDB, conn.ResourceName+"_compact")
		if errors.Is(err, ErrReaderRunning) {
			return nil, fmt.Errorf("%w (%s): %v", ErrCompactionRunning, conn.ResourceName, err)
		}
		if err != nil {
			return nil, err
		}
		defer release()
		// Under the lock no other compaction of the connection runs:
		// what is staged, and what is in its scratch dir, was left by a
		// killed one.
		if err := clearStaging(ctx, store, compactStaging(conn)); err != nil {
			return nil, err
		}
		if err := os.RemoveAll(c.scratch(conn)); err != nil {
			return nil, fmt.Errorf("clear the compaction's scratch dir: %w", err)
		}
	}
	if err := os.MkdirAll(c.scratch(conn), 0o700); err != nil {
		return nil, fmt.Errorf("compaction scratch dir: %w", err)
	}
	day = day.UTC().Truncate(24 * time.Hour)
	var out []CompactResult
	for _, s := range streams {
		if len(s.PrimaryKey) == 0 {
			// Without a key there is no newest row to keep: the change
			// log (append) is the stream's only form.
			out = append(out, CompactResult{Stream: s.Name, Day: day.Format(time.DateOnly), Did: SkippedNoKey})
			c.log().Info("cdc stream not compacted: it has no primary key", "stream", s.Name)
			continue
		}
		sc := c.stream(conn, s, store)
		res, err := sc.compactTo(ctx, day)
		out = append(out, res...)
		if err != nil {
			return out, fmt.Errorf("compact %s of %s: %w", s.Name, connection, err)
		}
	}
	return out, nil
}

// streamCompaction is one stream's compaction: where its change log and
// its snapshots are, and how files are written.
type streamCompaction struct {
	c      *Compactor
	conn   *config.Connection
	stream config.Stream
	store  storage.Store
	spool  string
	opts   parquet.Options
	mode   parquet.Mode
	types  string
}

// scratch is the connection's compaction dir under the spool dir: the
// downloaded change-log and snapshot files, the pages and parts being
// written. A killed compaction's are removed by the next one.
func (c *Compactor) scratch(conn *config.Connection) string {
	spool := c.Project.Settings.Sync.SpoolDir
	if spool == "" {
		spool = os.TempDir()
	}
	return scratch.Dir{Root: spool}.Compact(conn.ResourceName)
}

func (c *Compactor) stream(conn *config.Connection, s config.Stream, store storage.Store) *streamCompaction {
	st := c.Project.Settings.Sync
	f := conn.Destination.Format
	spool := c.scratch(conn)
	return &streamCompaction{c: c, conn: conn, stream: s, store: store, spool: spool, mode: parquet.Mode(st.Types), types: st.Types,
		// The pages of the row group being written wait in the spool
		// directory, not in memory, as a sync's do.
		opts: parquet.Options{Codec: f.CompressionCodec, PageBytes: f.PageSizeKB << 10, Dictionary: f.DictionaryEncoding,
			RowGroupRows: st.RowGroupRows, RowGroupBytes: int64(st.RowGroupMB) << 20, SpoolDir: spool}}
}

func (c *Compactor) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

func (sc *streamCompaction) log() *slog.Logger { return sc.c.log() }

// changeLog is the change log's partition of day; snapshotOf the stream's.
func (sc *streamCompaction) changeLog(day time.Time) layout.Stream {
	return layout.ForStream(sc.conn.Destination.BucketPath, sc.conn.Destination.PathFormat,
		layout.Vars{Namespace: sc.conn.Namespace(sc.stream), Stream: ChangeLogName(sc.stream), Time: day})
}

func (sc *streamCompaction) snapshotOf(day time.Time) layout.Stream {
	return layout.ForStream(sc.conn.Destination.BucketPath, sc.conn.Destination.PathFormat,
		layout.Vars{Namespace: sc.conn.Namespace(sc.stream), Stream: sc.stream.Name, Time: day})
}

func (sc *streamCompaction) manifest(ctx context.Context, l layout.Stream) (*snapshot.Manifest, error) {
	m, err := snapshot.ReadManifest(ctx, sc.store, l.ManifestKey())
	if errors.Is(err, storage.ErrNotExist) {
		return nil, nil
	}
	return m, err
}

// compactTo finds the base of day (walking back to a current snapshot or
// a backfill) and rebuilds every day from there whose inputs changed.
func (sc *streamCompaction) compactTo(ctx context.Context, day time.Time) ([]CompactResult, error) {
	start, base, err := sc.findBase(ctx, day)
	if err != nil {
		return nil, err
	}
	var out []CompactResult
	for d := start; !d.After(day); d = d.AddDate(0, 0, 1) {
		res, snap, err := sc.compactDay(ctx, d, base)
		if err != nil {
			return out, fmt.Errorf("day %s: %w", d.Format(time.DateOnly), err)
		}
		out = append(out, res)
		base = snap
	}
	return out, nil
}

// findBase walks back from day to the first day to build: the day after a
// snapshot that is current with its change log (base is that snapshot), or
// a day whose change log holds a backfill (base nil).
func (sc *streamCompaction) findBase(ctx context.Context, day time.Time) (time.Time, *snapshot.Manifest, error) {
	for d, n := day, 0; n < CompactLookback; d, n = d.AddDate(0, 0, -1), n+1 {
		cl, err := sc.manifest(ctx, sc.changeLog(d))
		if err != nil {
			return time.Time{}, nil, err
		}
		if cl != nil && lastBackfill(cl) >= 0 {
			return d, nil, nil
		}
		prev := d.AddDate(0, 0, -1)
		snap, err := sc.manifest(ctx, sc.snapshotOf(prev))
		if err != nil {
			return time.Time{}, nil, err
		}
		if snap == nil || snap.Compaction == nil {
			continue
		}
		pcl, err := sc.manifest(ctx, sc.changeLog(prev))
		if err != nil {
			return time.Time{}, nil, err
		}
		if sameChangeLog(snap.Compaction.ChangeLog, changeLogState(pcl)) {
			return d, snap, nil
		}
	}
	return time.Time{}, nil, fmt.Errorf("%w: stream %s has neither a snapshot nor a backfill in the %d days up to %s (a stream started without backfill has no base)",
		ErrNoCompactionBase, sc.stream.Name, CompactLookback, day.Format(time.DateOnly))
}

// changeLogState is what a snapshot records of its change-log partition.
func changeLogState(cl *snapshot.Manifest) snapshot.ChangeLogState {
	if cl == nil {
		return snapshot.ChangeLogState{}
	}
	return snapshot.ChangeLogState{CommittedAt: cl.CommittedAt, Files: len(cl.Files), Position: cl.Cursor}
}

// lastBackfill is the index of the first file of the last backfill in the
// change log's files (-1 without one): files are listed in commit order,
// and a backfill's range files, committed together, start with range 0.
func lastBackfill(cl *snapshot.Manifest) int {
	for i := len(cl.Files) - 1; i >= 0; i-- {
		if strings.Contains(path.Base(cl.Files[i].Key), "_backfill_0_") {
			return i
		}
	}
	return -1
}

// compactDay rebuilds day's snapshot from base and the day's change log
// unless the snapshot there was built from exactly those; it returns the
// snapshot of the day either way.
func (sc *streamCompaction) compactDay(ctx context.Context, day time.Time, base *snapshot.Manifest) (CompactResult, *snapshot.Manifest, error) {
	lay := sc.snapshotOf(day)
	res := CompactResult{Stream: sc.stream.Name, Day: day.Format(time.DateOnly), Partition: lay.Partition}
	cl, err := sc.manifest(ctx, sc.changeLog(day))
	if err != nil {
		return res, nil, err
	}
	inputs := snapshot.Compaction{ChangeLog: changeLogState(cl)}
	changes := cl
	if cl != nil {
		if i := lastBackfill(cl); i >= 0 {
			base = nil
			trimmed := *cl
			trimmed.Files = cl.Files[i:]
			changes = &trimmed
			res.Base = res.Day + " backfill"
		}
	}
	if base != nil {
		inputs.BaseManifest, inputs.BaseCommittedAt = base.Partition, base.CommittedAt
		if res.Base == "" {
			res.Base = base.Partition
		}
	}
	if base == nil && changes == nil {
		return res, nil, fmt.Errorf("%w: nothing precedes %s", ErrNoCompactionBase, res.Day)
	}
	have, err := sc.manifest(ctx, lay)
	if err != nil {
		return res, nil, err
	}
	if have != nil && have.Compaction != nil && sameInputs(*have.Compaction, inputs) {
		res.Did, res.Rows = UpToDate, have.Rows
		return res, have, nil
	}
	m, err := sc.build(ctx, lay, day, base, changes, inputs, &res)
	if err != nil {
		return res, nil, err
	}
	res.Did, res.Rows = Compacted, m.Rows
	sc.log().Info("cdc snapshot compacted", "stream", sc.stream.Name, "day", res.Day, "rows", m.Rows,
		"changes", res.Changes, "deleted", res.Deleted, "passes", res.Passes, "base", res.Base)
	return res, m, nil
}

func sameInputs(a, b snapshot.Compaction) bool {
	return sameChangeLog(a.ChangeLog, b.ChangeLog) && a.BaseManifest == b.BaseManifest && a.BaseCommittedAt.Equal(b.BaseCommittedAt)
}

func sameChangeLog(a, b snapshot.ChangeLogState) bool {
	return a.Files == b.Files && a.CommittedAt.Equal(b.CommittedAt) && a.Position == b.Position
}
