package cdc

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// OpRetract marks a retraction row: the row image of a change whose
// transaction never happened on the topology that lives on (an orphan of
// a diverged primary). Readers leave out every change of a GTID that has
// a retraction row.
const OpRetract Op = 'x'

// retractSuffix ends a retraction file's name: the orphans' first and
// last GTID, like a change-log file, and this, so the two never share a
// key and a replay writes the same one.
const retractSuffix = "_retracted.parquet"

// retractDays bounds how far back the partitions are searched for orphan
// rows: orphans are the last transactions before a failover.
const retractDays = 31

// retract writes, for every committed change of this stream in a
// transaction after to in a rewound domain (an orphan), the same row with
// _acode_op 'x', in a file of the orphan's partition committed like a
// change-log file. A retraction already committed (a replay) is skipped.
func (l *landing) retract(ctx context.Context, from, to Position) (int64, error) {
	gi, oi := l.columnIndex(ColGTID), l.columnIndex(ColOp)
	if gi < 0 || oi < 0 {
		return 0, fmt.Errorf("change log of %s has no %s or %s column", l.table.Name, ColGTID, ColOp)
	}
	var total int64
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i := 0; i < retractDays; i++ {
		day := today.AddDate(0, 0, -i)
		lay := l.layoutFor(day)
		m, err := snapshot.ReadManifest(ctx, l.sink.Store, lay.ManifestKey())
		if errors.Is(err, storage.ErrNotExist) {
			continue
		}
		if err != nil {
			return total, fmt.Errorf("retract orphans of %s: %w", l.table.Name, err)
		}
		keys, older := orphanFiles(m.Keys(), from, to)
		if len(keys) > 0 {
			n, err := l.retractDay(ctx, lay, day, m, keys, from, to, gi, oi)
			if err != nil {
				return total, err
			}
			total += n
		}
		if older {
			break // the days before hold only transactions before the common point
		}
	}
	return total, nil
}

// orphanFiles picks the change-log files whose GTID range (in their name)
// reaches past the common point; older says a file of the day starts at or
// before it.
func orphanFiles(keys []string, from, to Position) (picked []string, older bool) {
	for _, k := range keys {
		name := path.Base(k)
		if strings.HasSuffix(name, retractSuffix) {
			continue
		}
		parts := strings.Split(strings.TrimSuffix(name, ".parquet"), "_")
		if len(parts) < 2 {
			picked = append(picked, k) // not a name of ours: look inside
			continue
		}
		first, err1 := ParseGTID(parts[len(parts)-2])
		last, err2 := ParseGTID(parts[len(parts)-1])
		if err1 != nil || err2 != nil || first.Domain != last.Domain {
			picked = append(picked, k)
			continue
		}
		if orphanOf(last, from, to) {
			picked = append(picked, k)
		}
		if t, ok := to[first.Domain]; ok && first.Seq <= t.Seq {
			older = true
		}
	}
	return picked, older
}

// retractDay reads the picked files of one partition and commits one
// retraction file for their orphan rows.
func (l *landing) retractDay(ctx context.Context, lay layout.Stream, day time.Time, m *snapshot.Manifest, keys []string,
	from, to Position, gi, oi int) (int64, error) {
	var rows [][][]byte
	var first, last GTID
	for _, k := range keys {
		err := l.eachRow(ctx, k, func(row [][]byte) error {
			g, err := ParseGTID(string(row[gi]))
			if err != nil || !orphanOf(g, from, to) || len(row[oi]) != 1 || Op(row[oi][0]) == OpRetract || Op(row[oi][0]) == 'r' {
				return nil
			}
			if len(rows) == 0 || g.Seq < first.Seq {
				first = g
			}
			if len(rows) == 0 || g.Seq > last.Seq {
				last = g
			}
			c := make([][]byte, len(row))
			for i, v := range row {
				if v != nil {
					c[i] = append([]byte{}, v...)
				}
			}
			c[oi] = []byte{byte(OpRetract)}
			rows = append(rows, c)
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	prefix := lay.FilePrefix
	if prefix != "" && !strings.HasSuffix(prefix, "_") {
		prefix += "_"
	}
	name := fmt.Sprintf("%s%s_%s_%s%s", prefix, day.Format("20060102"), first, last, retractSuffix)
	if slices.Contains(m.Keys(), layout.Join(lay.Partition, name)) {
		return 0, nil // committed before a crash: the replay has nothing to add
	}
	lf, err := newLogFile(l.sink.SpoolDir, l.schema, day, time.Now(), l.sink.Options)
	if err != nil {
		return 0, err
	}
	defer lf.discard()
	for _, r := range rows {
		if err := lf.w.Write(r); err != nil {
			return 0, fmt.Errorf("write retraction of %s: %w", l.table.Name, err)
		}
	}
	lf.rows, lf.first, lf.last, lf.txns = int64(len(rows)), first, last, 1
	if err := l.stageAndPublish(ctx, lf, lay, name, to); err != nil {
		return 0, err
	}
	l.sink.Log.Warn("cdc orphan changes retracted", "table", l.table.Name, "key", layout.Join(lay.Partition, name),
		"rows", len(rows), "first_gtid", first.String(), "last_gtid", last.String())
	return int64(len(rows)), nil
}

// stageAndPublish closes lf, stages it and commits it into lay under name.
func (l *landing) stageAndPublish(ctx context.Context, lf *logFile, lay layout.Stream, name string, upTo Position) error {
	sha, err := lf.close()
	if err != nil {
		return err
	}
	stagingKey := layout.Join(l.sink.stagingPrefix(), l.table.Name, name)
	if err := storage.PutFile(ctx, l.sink.Store, stagingKey, lf.f, lf.size); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	if err := l.publish(ctx, lay, snapshot.StagedPart{StagingKey: stagingKey, Name: name, Rows: lf.rows, Bytes: lf.size, SHA256: sha}, upTo); err != nil {
		return err
	}
	if err := l.sink.Store.Delete(ctx, stagingKey); err != nil {
		l.sink.Log.Warn("delete staged change-log file", "key", stagingKey, "err", err)
	}
	return nil
}

// eachRow decodes every row of the committed change-log file key into the
// change log's text form (reused between calls).
func (l *landing) eachRow(ctx context.Context, key string, fn func([][]byte) error) error {
	local, err := parquet.Fetch(ctx, l.sink.Store, key)
	if err != nil {
		return fmt.Errorf("read %s for its orphan changes: %w", key, err)
	}
	defer local.Close()
	dec, err := parquet.NewDecoder(local.File, l.log)
	if err != nil {
		return fmt.Errorf("read %s for its orphan changes: %w", key, err)
	}
	return parquet.EachRow(local.File, func(r pq.Row) error {
		row, err := dec.Text(r)
		if err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return fn(row)
	})
}

func (l *landing) columnIndex(name string) int {
	for i, c := range l.log.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}
