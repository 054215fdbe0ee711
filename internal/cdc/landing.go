package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// Sink is where every stream of one reader lands, and how.
type Sink struct {
	Store      storage.Store
	BucketPath string
	PathFormat string
	Connection string
	Source     snapshot.Source // endpoint of the server read (GTID fields filled per commit)
	Options    parquet.Options
	Mode       parquet.Mode
	TypeMode   string // the manifest's type_mode
	SpoolDir   string
	Log        *slog.Logger

	checkpoints checkpoints
}

// stagingPrefix is where change-log files wait for their commit: beside
// the syncs' staging areas, under a name of its own, so neither cleans up
// the other's files.
func (s *Sink) stagingPrefix() string {
	return layout.StagingPrefix(s.BucketPath, s.Connection+"_cdc", 0)
}

// clearStaging removes what a killed reader left staged: only one reader
// runs per connection (Lock), and a commit it did not finish is read again.
func (s *Sink) clearStaging(ctx context.Context) error {
	var keys []string
	err := s.Store.List(ctx, s.stagingPrefix()+"/", func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list cdc staging area: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	if err := s.Store.Delete(ctx, keys...); err != nil {
		return fmt.Errorf("clear cdc staging area: %w", err)
	}
	s.Log.Info("cdc staging area cleared", "files", len(keys))
	return nil
}

// clearSpool empties the spool directory of the connection's reader (made
// when missing): a killed reader leaves its open change-log files and their
// spooled pages there, and a crash loop must not fill the disk with them.
// The caller is the connection's only reader (Lock).
func (s *Sink) clearSpool() error {
	if err := os.MkdirAll(s.SpoolDir, 0o700); err != nil {
		return fmt.Errorf("create cdc spool dir: %w", err)
	}
	entries, err := os.ReadDir(s.SpoolDir)
	if err != nil {
		return fmt.Errorf("list cdc spool dir: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.SpoolDir, e.Name())); err != nil {
			return fmt.Errorf("clear cdc spool dir: %w", err)
		}
	}
	if len(entries) > 0 {
		s.Log.Info("cdc spool dir cleared", "dir", s.SpoolDir, "files", len(entries))
	}
	return nil
}

// landing is one stream's change log: its committed position, the file
// being written, and the partitions this process already repaired.
type landing struct {
	sink   *Sink
	table  *Table
	log    schema.Table
	schema *parquet.Schema
	pos    Position // committed: every transaction at or before it is in a committed file
	open   *logFile
	// lost is set when a commit failed after its file was taken: the
	// checkpoint must then never move past that file's transactions in
	// this process (they are read again by the next one).
	lost     bool
	repaired map[string]bool
	started  time.Time
}

func newLanding(s *Sink, t *Table) (*landing, error) {
	lt, err := changeLogTable(t.Source, t.Name)
	if err != nil {
		return nil, err
	}
	ps, err := parquet.NewSchema(lt, s.Mode)
	if err != nil {
		return nil, fmt.Errorf("change log of %s: %w", t.Source.Name, err)
	}
	return &landing{sink: s, table: t, log: lt, schema: ps, repaired: map[string]bool{}, started: time.Now().UTC()}, nil
}

// add appends the stream's changes of txn. A transaction of another commit
// day first commits the open file (at upTo, the position before txn), so
// every file holds one day, as its partition says.
//
// continuing says that txn is a further chunk of a spilled transaction
// whose earlier chunks are in the open file: it stays in that file.
func (l *landing) add(ctx context.Context, txn *Txn, changes []Change, upTo Position, continuing bool) error {
	day := txn.CommitTime.Truncate(24 * time.Hour)
	if l.open != nil && continuing && l.open.last == txn.GTID {
		day = l.open.day
	}
	if l.open != nil && !l.open.day.Equal(day) {
		if err := l.commit(ctx, upTo); err != nil {
			return err
		}
	}
	if l.open == nil {
		lf, err := newLogFile(l.sink.SpoolDir, l.schema, day, time.Now(), l.sink.Options)
		if err != nil {
			return err
		}
		l.open = lf
	}
	return l.open.add(txn, changes)
}

// layoutFor is the change log's partition of one commit day.
func (l *landing) layoutFor(day time.Time) layout.Stream {
	return layout.ForStream(l.sink.BucketPath, l.sink.PathFormat,
		layout.Vars{Namespace: l.table.Source.Namespace, Stream: l.table.Name, Time: day})
}

// commit makes the open file part of its partition and then moves the
// checkpoint to upTo. With no open file it only moves the checkpoint.
func (l *landing) commit(ctx context.Context, upTo Position) error {
	if l.lost {
		return fmt.Errorf("%w: %s", ErrCommitLost, l.table.Name)
	}
	cp := l.sink.checkpoints
	if l.open == nil {
		if !l.pos.Behind(upTo) {
			return nil
		}
		if err := cp.save(ctx, l.table.Name, upTo); err != nil {
			return err
		}
		l.pos = upTo.Clone()
		return nil
	}
	lf := l.open
	l.open = nil
	defer lf.discard()
	if err := l.publishFile(ctx, lf, upTo); err != nil {
		l.lost = true
		return err
	}
	return nil
}

// publishFile stages lf, commits it into its partition and moves the
// checkpoint to upTo.
func (l *landing) publishFile(ctx context.Context, lf *logFile, upTo Position) error {
	cp := l.sink.checkpoints
	sha, err := lf.close()
	if err != nil {
		return err
	}
	lay := l.layoutFor(lf.day)
	name := lf.name(lay.FilePrefix)
	fileKey := layout.Join(lay.Partition, name)
	stagingKey := layout.Join(l.sink.stagingPrefix(), l.table.Name, name)
	if err := storage.PutFile(ctx, l.sink.Store, stagingKey, lf.f, lf.size); err != nil {
		return fmt.Errorf("stage change-log file %s: %w", name, err)
	}
	if err := cp.setPending(ctx, l.table.Name, &pending{Manifest: lay.ManifestKey(), File: fileKey, Position: upTo.String()}); err != nil {
		return err
	}
	l.sink.Log.Info("cdc file staged", "table", l.table.Name, "key", fileKey, "rows", lf.rows, "transactions", lf.txns)
	if err := l.publish(ctx, lay, snapshot.StagedPart{StagingKey: stagingKey, Name: name, Rows: lf.rows, Bytes: lf.size, SHA256: sha}, upTo); err != nil {
		return err
	}
	if err := l.sink.Store.Delete(ctx, stagingKey); err != nil {
		l.sink.Log.Warn("delete staged change-log file", "key", stagingKey, "err", err)
	}
	if err := cp.save(ctx, l.table.Name, upTo); err != nil {
		return err
	}
	l.pos = upTo.Clone()
	if err := cp.setPending(ctx, l.table.Name, nil); err != nil {
		return err
	}
	l.sink.Log.Info("cdc file committed", "table", l.table.Name, "key", fileKey, "rows", lf.rows,
		"first_gtid", lf.first.String(), "last_gtid", lf.last.String(), "position", upTo.String())
	return nil
}

// publish commits one staged file into its partition's manifest (appended
// to the files already there). The first commit into a partition in this
// process first removes what an earlier, killed process left in it.
func (l *landing) publish(ctx context.Context, lay layout.Stream, part snapshot.StagedPart, upTo Position) error {
	if !l.repaired[lay.Partition] {
		prev, _, err := snapshot.RepairPartition(ctx, l.sink.Store, lay)
		if err != nil {
			return fmt.Errorf("repair %s: %w", lay.Partition, err)
		}
		l.repaired[lay.Partition] = true
		if prev != nil && slices.Contains(prev.Keys(), layout.Join(lay.Partition, part.Name)) {
			return nil // committed by the process before this one
		}
	}
	m := l.manifest(upTo)
	if _, err := snapshot.Publish(ctx, l.sink.Store, lay, m, []snapshot.StagedPart{part}, true); err != nil {
		return fmt.Errorf("commit change log %s: %w", lay.Partition, err)
	}
	return nil
}

func (l *landing) manifest(upTo Position) snapshot.Manifest {
	src := l.sink.Source
	src.GTIDPosition = upTo.String()
	m := snapshot.Manifest{
		Connection: l.sink.Connection, Stream: l.table.Name, Namespace: l.table.Source.Namespace,
		SyncMode: "cdc", Source: src, StartedAt: l.started, EmittedAt: l.started,
		Schema: snapshot.Schema{Fingerprint: l.log.Fingerprint(), TypeMode: l.sink.TypeMode},
		Cursor: upTo.String(),
	}
	m.Schema.Columns = manifestColumns(l.log, l.schema)
	return m
}

// manifestColumns is a manifest's record of the Parquet fields of ps with
// the MySQL type of t's columns (none for Airbyte's metadata fields).
func manifestColumns(t schema.Table, ps *parquet.Schema) []snapshot.Column {
	var out []snapshot.Column
	for _, f := range ps.Fields() {
		typ := f.Physical
		if f.Logical != "" {
			typ += " " + f.Logical
		}
		c := snapshot.Column{Name: f.Name, Parquet: typ, Nullable: f.Repetition == "OPTIONAL"}
		if col, ok := t.Column(f.Name); ok {
			c.MySQLType = col.ColumnType
		}
		out = append(out, c)
	}
	return out
}

// size is the open file's encoded bytes so far (0 without one).
func (l *landing) size() int64 {
	if l.open == nil {
		return 0
	}
	return l.open.size
}

// drop discards the open file: its transactions will be read again.
func (l *landing) drop() {
	if l.open != nil {
		l.open.discard()
		l.open = nil
	}
}

// recover settles a commit a killed process left in flight: done when the
// manifest lists its file (the checkpoint is moved on), dropped otherwise.
func (l *landing) recover(ctx context.Context) error {
	cp := l.sink.checkpoints
	p, err := cp.pending(ctx, l.table.Name)
	if err != nil || p == nil {
		return err
	}
	m, err := snapshot.ReadManifest(ctx, l.sink.Store, p.Manifest)
	switch {
	case err == nil && slices.Contains(m.Keys(), p.File):
		pos, err := ParsePosition(p.Position)
		if err != nil {
			return fmt.Errorf("pending commit of %s: %w", l.table.Name, err)
		}
		if err := cp.save(ctx, l.table.Name, pos); err != nil {
			return err
		}
		l.pos = pos
		l.sink.Log.Info("cdc commit of the previous process completed", "table", l.table.Name, "key", p.File)
	case err != nil && !errors.Is(err, storage.ErrNotExist):
		return err
	default:
		l.sink.Log.Info("cdc commit of the previous process never happened; its transactions are read again", "table", l.table.Name, "key", p.File)
	}
	return cp.setPending(ctx, l.table.Name, nil)
}
