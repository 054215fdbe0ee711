package syncer

import (
	"context"
	"fmt"
	"sort"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
)

// commit publishes the stream's parts as its partition's snapshot.
func (r *streamRun) commit(ctx context.Context, table schema.Table, s *parquet.Schema, p plan, l layout.Stream, q *streamQuality) (streamOutput, error) {
	parts, err := r.syncer.State.Parts(ctx, r.job.ID, r.stream.Name)
	if err != nil {
		return streamOutput{}, err
	}
	// Staged parts are named in the order of their ranges; pending ones
	// were named when they started, and are listed in that order.
	sort.Slice(parts, func(i, j int) bool { return parts[i].Ranges[0] < parts[j].Ranges[0] })
	staged := make([]snapshot.StagedPart, len(parts))
	for i, part := range parts {
		if staged[i], err = r.stagedPart(part, l, i+1); err != nil {
			return streamOutput{}, err
		}
	}
	if r.direct != nil {
		sort.SliceStable(staged, func(i, j int) bool { return partNumber(l, r.job.ID, staged[i]) < partNumber(l, r.job.ID, staged[j]) })
	}
	incremental := r.stream.SyncMode == "incremental"
	if incremental && len(staged) == 0 {
		return streamOutput{files: []string{}}, nil // nothing new: the partition stays as it is
	}
	m := r.manifest(table, s, p)
	snapshotPoint(&m.Source, parts)
	m.NulledValues = r.nulledCounts()
	q.stream.NoteNulled(m.NulledValues)
	var rep quality.StreamReport
	m.Stats, m.Quality, rep = r.checkQuality(ctx, q, staged, sourceRows(parts))
	if len(rep.Errors()) > 0 && r.syncer.Project.Settings.Quality.Quarantine {
		return r.quarantine(ctx, l, m, staged, rep)
	}
	// A worker that stalled and lost its job must not publish: the one
	// that took it over commits (and the record below is fenced again).
	if err := r.syncer.State.CheckAttempt(ctx, r.job.ID, r.attempt); err != nil {
		return streamOutput{}, err
	}
	committed, err := snapshot.Publish(ctx, r.ep.store, l, m, staged, incremental)
	if err != nil {
		if committed == nil {
			r.forgetLost(ctx, err)
			return streamOutput{}, failure.Destination(r.stream.Name, err)
		}
		r.log.Warn("committed with leftovers", "err", err)
	}
	if err := r.syncer.State.RecordCommit(ctx, state.Commit{
		Connection: r.conn.ResourceName, Stream: r.stream.Name, Partition: l.Partition,
		JobID: r.job.ID, ManifestKey: l.ManifestKey(), Rows: committed.Rows, Bytes: committed.Bytes,
		Files: len(committed.Files), Source: r.role, Status: state.CommitStatus(committed.Status),
		Attempt: r.attempt,
	}); err != nil {
		return streamOutput{}, err
	}
	rep.Status = committed.Status
	r.saveQuality(ctx, l, rep, m.Stats)
	if incremental && p.CursorUpTo != nil {
		if err := r.syncer.State.SetCursor(ctx, state.Cursor{
			Connection: r.conn.ResourceName, Stream: r.stream.Name, Field: r.stream.CursorField,
			Value: *p.CursorUpTo, JobID: r.job.ID,
		}); err != nil {
			return streamOutput{}, fmt.Errorf("committed, but saving the cursor failed: %w", err)
		}
	}
	out := streamOutput{files: []string{}}
	for _, st := range staged {
		out.files = append(out.files, layout.Join(l.Partition, st.Name))
		out.rows += st.Rows
		out.bytes += st.Bytes
	}
	r.log.Info("stream committed", "partition", l.Partition, "rows", out.rows, "files", len(out.files))
	return out, nil
}

func (r *streamRun) manifest(table schema.Table, s *parquet.Schema, p plan) snapshot.Manifest {
	src := r.conn.Source
	m := snapshot.Manifest{
		Connection: r.conn.ResourceName, Stream: r.stream.Name, Namespace: table.Namespace,
		JobID: r.job.ID, Attempt: r.attempt, SyncMode: r.stream.SyncMode,
		Source: snapshot.Source{
			Role: r.role, Name: src.ResourceName, Host: src.Host, Port: src.Port, Database: src.Database,
			ServerVersion: r.ep.server.Version, GTIDPosition: r.ep.server.GTIDPosition,
			BinlogFile: r.ep.server.BinlogFile, BinlogPos: r.ep.server.BinlogPos,
		},
		StartedAt: r.job.CreatedAt, EmittedAt: r.job.CreatedAt,
		Schema: snapshot.Schema{Fingerprint: table.Fingerprint(), TypeMode: r.syncer.Project.Settings.Sync.Types},
	}
	if p.CursorUpTo != nil {
		m.Cursor = *p.CursorUpTo
	}
	for _, f := range s.Fields() {
		c := snapshot.Column{Name: f.Name, Parquet: parquetType(f), Nullable: f.Repetition == "OPTIONAL"}
		if col, ok := table.Column(f.Name); ok {
			c.MySQLType = col.ColumnType
		}
		m.Schema.Columns = append(m.Schema.Columns, c)
	}
	return m
}

func parquetType(f parquet.Field) string {
	if f.Logical == "" {
		return f.Physical
	}
	return f.Physical + " " + f.Logical
}

// snapshotPoint puts the earliest range snapshot of the parts into the
// manifest's source: every transaction up to it is in the files, and a
// change log read from it misses none. It keeps the position read when the
// job opened the server (before any range) when a part's is unknown.
func snapshotPoint(src *snapshot.Source, parts []state.Part) {
	var earliest *mysql.SnapshotPos
	for _, p := range parts {
		if p.SnapshotGTID == "" {
			return
		}
		at := mysql.SnapshotPos{File: p.SnapshotFile, Pos: p.SnapshotPos, GTID: p.SnapshotGTID}
		if earliest == nil || at.Earlier(*earliest) {
			earliest = &at
		}
	}
	if earliest != nil {
		src.GTIDPosition, src.BinlogFile, src.BinlogPos = earliest.GTID, earliest.File, earliest.Pos
	}
}
