package syncer

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/stats"
	"github.com/acode-dev/acode/internal/storage"
)

// readAll reads every range no earlier attempt uploaded (parts are the
// ones they recorded), with up to max_parallel_reads workers, each filling
// its own part files. It returns how many ranges it skipped because an
// earlier attempt had uploaded them.
func (r *streamRun) readAll(ctx context.Context, table schema.Table, s *parquet.Schema, p plan, sp *StreamProgress, qs *quality.Stream, parts []state.Part) (int, error) {
	if r.stream.SyncMode == "incremental" && p.CursorUpTo == nil {
		return 0, nil // empty table: nothing to read
	}
	covered := map[int]bool{}
	for _, part := range parts {
		for _, i := range part.Ranges {
			covered[i] = true
		}
		sp.rows.Add(part.Rows)
		sp.bytes.Add(part.Bytes)
	}
	var todo []mysql.Range
	for _, rg := range p.Ranges {
		if !covered[rg.Index] {
			todo = append(todo, rg)
		}
	}
	if len(parts) > 0 {
		r.log.Info("resuming stream", "ranges_done", len(p.Ranges)-len(todo), "ranges_left", len(todo))
	}
	resumed := len(p.Ranges) - len(todo)
	r.mergePartStats(qs, parts) // the rows of earlier attempts
	if len(todo) == 0 {
		return resumed, nil
	}
	if r.syncer.SharedRanges {
		if err := r.readShared(ctx, todo, sp); err != nil {
			return resumed, err
		}
		return resumed, r.mergeSharedStats(ctx, qs, parts) // the rows read by the range workers
	}
	spool, err := tempDir(r.scratch, "spool", r.stream.Name)
	if err != nil {
		return 0, fmt.Errorf("create spool dir: %w", err)
	}
	defer os.RemoveAll(spool)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan mysql.Range)
	workers := readWorkers(len(todo), cap(r.reads))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = r.worker(ctx, r.ep.reader(w), table, s, p, queue, spool, sp, qs)
			if errs[w] != nil {
				cancel()
			}
		}()
	}
feed:
	for _, rg := range todo {
		select {
		case queue <- rg:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	if err := firstError(errs); err != nil {
		return 0, err
	}
	return resumed, ctx.Err()
}

// readWorkers is how many ranges of a stream are read and encoded at once:
// max_parallel_reads bounds the load on the source, and more workers than
// cores only add memory (a Parquet writer each) since a worker is mostly CPU.
func readWorkers(ranges, maxParallelReads int) int {
	return max(1, min(ranges, maxParallelReads, runtime.GOMAXPROCS(0)))
}

// Writers is how many Parquet files a job of streams streams writes at
// once: the streams read together, each with up to readWorkers writers.
// Memory budgets (the row groups kept in memory, the process's soft memory
// limit) follow it.
func Writers(st config.SyncSettings, streams int) int {
	return max(1, min(st.ParallelStreams, streams)) * readWorkers(st.MaxParallelReads, st.MaxParallelReads)
}

// worker reads ranges from queue into part files, rolling a file when it
// passes the configured size; each uploaded part is recorded with the
// ranges it holds. The rows of each part feed that part's statistics,
// merged into the stream's when the part is closed and recorded with it.
func (r *streamRun) worker(ctx context.Context, db *sql.DB, table schema.Table, s *parquet.Schema, p plan, queue <-chan mysql.Range, spool string, sp *StreamProgress, qs *quality.Stream) error {
	st := r.syncer.Project.Settings.Sync
	opts := mysql.ReadOptions{CursorColumn: p.CursorColumn, CursorAfter: p.CursorAfter, CursorUpTo: p.CursorUpTo}
	opts.Limiter = r.limit // max_rows_per_second, for the whole job
	fileSize := int64(st.FileSizeMB) << 20
	var cur *part
	defer func() {
		if cur != nil {
			cur.discard()
		}
	}()
	up := newUploader(func(p *part) error { return r.upload(ctx, p, sp) })
	defer up.wait() // an early return waits too: no upload outlives its worker
	for rg := range queue {
		if cur == nil {
			var err error
			if cur, err = r.startPart(ctx, spool, s, rg.Index); err != nil {
				return err
			}
			cur.stats = qs.NewWorker()
		}
		if err := r.readRange(ctx, db, table, rg, opts, cur, sp, cur.stats); err != nil {
			return err
		}
		cur.ranges = append(cur.ranges, rg.Index)
		if cur.w.Size() >= fileSize {
			err := r.flush(cur, up, qs)
			cur = nil
			if err != nil {
				return err
			}
		}
	}
	if cur != nil {
		err := r.flush(cur, up, qs)
		cur = nil
		if err != nil {
			return err
		}
	}
	return up.wait()
}

// startPart starts the part file whose first range is first, and its
// upload beside the encoding when the destination takes streams (S3). The
// file backend takes the finished file by a link instead.
func (r *streamRun) startPart(ctx context.Context, spool string, s *parquet.Schema, first int) (*part, error) {
	var claim int64
	if r.task != nil {
		claim = r.task.Claim
	}
	key := stagingKey(r.conn, r.job.ID, r.attempt, claim, r.stream.Name, first)
	var deferred storage.Deferrer
	if r.direct != nil {
		key, deferred = r.direct.nextKey(), r.direct.d
	}
	p, err := newPart(spool, key, s, r.job.CreatedAt, r.encoderOptions(spool))
	if err != nil {
		return nil, err
	}
	p.keep = r.direct.keepPath(key)
	if _, links := r.ep.store.(storage.FilePutter); !links {
		if err := p.stream(ctx, r.ep.store, deferred); err != nil {
			p.discard()
			return nil, err
		}
	}
	return p, nil
}

func (r *streamRun) readRange(ctx context.Context, db *sql.DB, table schema.Table, rg mysql.Range, opts mysql.ReadOptions, cur *part, sp *StreamProgress, qw *stats.Worker) error {
	select {
	case r.reads <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.reads }()
	var encodeErr error
	if (qw != nil || r.task != nil) && r.syncer.Project.Settings.Quality.Enabled && r.syncer.Project.Settings.Quality.CountSource {
		opts.Counted = cur.addCounted // the completeness check's source side
	} else {
		cur.addCounted(-1)
	}
	opts.InSnapshot = func(ctx context.Context, conn *sql.Conn) error {
		cur.addSnapshot(mysql.SnapshotPosition(ctx, conn)) // unknown on MySQL or without a binlog: not an error
		return nil
	}
	_, err := mysql.ReadRange(ctx, db, table, rg, opts, func(row [][]byte) error {
		if err := cur.w.Write(row); err != nil {
			encodeErr = err
			return err
		}
		qw.Observe(row)
		sp.rows.Add(1)
		return nil
	})
	if encodeErr != nil {
		return fmt.Errorf("stream %s: encode: %w", r.stream.Name, encodeErr)
	}
	if err != nil {
		return failure.Source(r.stream.Name, fmt.Errorf("read range %d: %w", rg.Index, err))
	}
	return nil
}

// flush closes a finished part, adds its statistics to the stream's
// (keeping their mergeable form for its record) and hands it to the
// worker's uploader.
func (r *streamRun) flush(cur *part, up *uploader, qs *quality.Stream) error {
	if cur.w.Rows() == 0 {
		cur.discard()
		return nil
	}
	if err := cur.close(); err != nil {
		return failure.Destination(r.stream.Name, err)
	}
	r.nulled.add(cur.w.Unheld())
	if cur.stats != nil {
		cur.summary = summaryText(cur.stats)
		qs.Add(cur.stats)
		cur.stats = nil
	}
	return up.start(cur)
}

// upload puts a closed part into staging and records it, so a retry skips
// its ranges.
func (r *streamRun) upload(ctx context.Context, cur *part, sp *StreamProgress) error {
	key, ranges, counted, snap := cur.key, cur.ranges, cur.counted, cur.snapshot()
	started := time.Now()
	out, err := cur.upload(ctx, r.ep.store)
	if err != nil {
		return failure.Destination(r.stream.Name, err)
	}
	r.log.Debug("part stored", "key", key, "bytes", out.size, "wait_seconds", time.Since(started).Seconds())
	sp.bytes.Add(out.size)
	part := state.Part{
		JobID: r.job.ID, Stream: r.stream.Name, Key: key, Ranges: ranges,
		Rows: out.rows, Bytes: out.size, SHA256: out.sha256, SourceRows: counted, Pending: out.pending,
		SnapshotFile: snap.File, SnapshotPos: snap.Pos, SnapshotGTID: snap.GTID, Stats: cur.summary,
		Attempt: r.attempt,
	}
	if err := r.syncer.State.RecordPart(ctx, part); err != nil {
		r.abortUnrecorded(ctx, part)
		return err
	}
	return nil
}

// abortUnrecorded aborts the pending upload of a part whose record failed
// (most often: the job was cancelled between the upload and its record).
// Nothing else knows of that upload: the failed job's clean-up aborts the
// recorded ones only, and the next job would find it a stray.
func (r *streamRun) abortUnrecorded(ctx context.Context, p state.Part) {
	d, ok := r.ep.store.(storage.Deferrer)
	if !ok {
		return
	}
	pend, ok, err := pendingOf(p)
	if err != nil || !ok {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := d.AbortDeferred(actx, pend); err != nil {
		r.log.Warn("abort the upload of an unrecorded part", "key", p.Key, "err", err)
	}
}

func (r *streamRun) encoderOptions(spool string) parquet.Options {
	st := r.syncer.Project.Settings.Sync
	f := r.conn.Destination.Format
	if !spoolPages(st) {
		spool = ""
	}
	return parquet.Options{
		SpoolDir:      spool,
		Codec:         f.CompressionCodec,
		RowGroupRows:  st.RowGroupRows,
		RowGroupBytes: int64(st.RowGroupMB) << 20,
		PageBytes:     f.PageSizeKB << 10,
		Dictionary:    f.DictionaryEncoding,
		Mode:          parquet.Mode(st.Types),
	}
}

// rowGroupMemory bounds the row groups a job builds in memory at once
// (every writer of every stream at its configured row_group_mb). Past it the
// row groups being built wait in the spool dir: memory stays flat, but
// writing the pages out and reading them back costs about a tenth of a
// sync's CPU, so the defaults stay under it.
const rowGroupMemory = 128 << 20

// spoolPages says whether the row groups being built go to the spool dir.
func spoolPages(st config.SyncSettings) bool {
	writers := int64(Writers(st, st.ParallelStreams)) // every stream slot may be busy
	return int64(st.RowGroupMB)<<20*writers > rowGroupMemory
}
