package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/quality/stats"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// streamRun is one stream of one attempt.
type streamRun struct {
	syncer   *Syncer
	conn     *config.Connection
	stream   config.Stream
	job      state.Job
	attempt  int
	role     string
	ep       *endpoints
	reads    chan struct{}     // shared by every stream: caps concurrent range reads
	limit    *mysql.RowLimiter // shared by every stream: max_rows_per_second
	progress *Progress
	quality  *quality.Job // nil when quality checks are off
	log      *slog.Logger
	direct   *direct // set when parts go straight to their published keys
}

// plan is the persisted read plan of a stream in a job: the same ranges and
// cursor bounds are used by every attempt, so a retry can skip what an
// earlier attempt uploaded.
type plan struct {
	Ranges       []mysql.Range `json:"ranges"`
	CursorColumn string        `json:"cursor_column,omitempty"`
	CursorAfter  *string       `json:"cursor_after,omitempty"`
	CursorUpTo   *string       `json:"cursor_up_to,omitempty"`
}

func (r *streamRun) run(ctx context.Context) (StreamResult, error) {
	ns := namespaceOf(r.conn, r.stream)
	res := StreamResult{Name: r.stream.Name, Namespace: ns, Status: "failed", Files: []string{}}
	table, ok := r.ep.tables[ns+"."+r.stream.Name]
	if !ok {
		return res, sourceErr(r.stream.Name, &mysql.TableNotFoundError{Database: ns, Table: r.stream.Name})
	}
	l := layout.ForStream(r.conn.Destination.BucketPath, r.conn.Destination.PathFormat, layout.Vars{
		Namespace: ns, Stream: r.stream.Name, Time: r.job.CreatedAt, UUID: jobUUID(r.job),
	})
	res.Partition = l.Partition
	sp := r.progress.stream(r.stream.Name, table.EstimatedRows)
	sp.Started = time.Now()
	sp.setState("reading")
	out, err := r.sync(ctx, table, l, sp)
	if err != nil {
		sp.setState("failed")
		res.Error = err.Error()
		if errors.Is(err, quality.ErrValidationFailed) {
			res.Status, res.Rows, res.Bytes, res.Files = snapshot.StatusQuarantined, out.rows, out.bytes, out.files
		}
		r.saveResult(ctx, res)
		return res, err
	}
	sp.setState("committed")
	res.Status = "committed"
	res.Rows, res.Bytes, res.Files, res.Manifest = out.rows, out.bytes, out.files, l.ManifestKey()
	res.RangesResumed = out.resumed
	r.saveResult(ctx, res)
	return res, nil
}

type streamOutput struct {
	rows, bytes int64
	files       []string
	resumed     int // ranges skipped because an earlier attempt uploaded them
}

func (r *streamRun) sync(ctx context.Context, table schema.Table, l layout.Stream, sp *StreamProgress) (streamOutput, error) {
	store := r.ep.store
	recorded, err := r.syncer.State.Parts(ctx, r.job.ID, r.stream.Name)
	if err != nil {
		return streamOutput{}, err
	}
	var mine []string // this job's parts at their published keys: a crashed commit may have completed some
	for _, p := range recorded {
		if p.Pending != "" {
			mine = append(mine, p.Key)
		}
	}
	if _, deleted, err := snapshot.RepairPartition(ctx, store, l, mine...); err != nil {
		return streamOutput{}, destErr(r.stream.Name, err)
	} else if len(deleted) > 0 {
		r.log.Info("removed files of crashed or superseded jobs", "partition", l.Partition, "files", len(deleted))
	}
	if d, ok := store.(storage.Deferrer); ok {
		if r.direct, err = r.startDirect(ctx, d, l, recorded); err != nil {
			return streamOutput{}, destErr(r.stream.Name, err)
		}
		defer r.direct.close()
	}
	pqSchema, err := parquet.NewSchema(table, parquet.Mode(r.syncer.Project.Settings.Sync.Types))
	if err != nil {
		return streamOutput{}, sourceErr(r.stream.Name, err)
	}
	p, err := r.loadPlan(ctx, table)
	if err != nil {
		return streamOutput{}, err
	}
	q, err := r.beginQuality(table)
	if err != nil {
		return streamOutput{}, err
	}
	resumed, err := r.readAll(ctx, table, pqSchema, p, sp, q.stream, recorded)
	if err != nil {
		return streamOutput{}, err
	}
	if resumed > 0 {
		q.stream.MarkPartial()
	}
	q.stream.ReadsDone()
	sp.setState("publishing")
	r.log.Debug("stream read and uploaded", "seconds", time.Since(sp.Started).Seconds())
	started := time.Now()
	out, err := r.commit(ctx, table, pqSchema, p, l, q)
	out.resumed = resumed
	r.log.Debug("stream checked and published", "seconds", time.Since(started).Seconds())
	return out, err
}

// loadPlan returns the job's plan for the stream, making it on the first
// attempt.
func (r *streamRun) loadPlan(ctx context.Context, table schema.Table) (plan, error) {
	var p plan
	raw, ok, err := r.syncer.State.Plan(ctx, r.job.ID, r.stream.Name)
	if err != nil {
		return p, err
	}
	if ok {
		if err := json.Unmarshal(raw, &p); err != nil {
			return p, fmt.Errorf("decode stored plan of stream %s: %w", r.stream.Name, err)
		}
		return p, nil
	}
	if r.stream.SyncMode == "incremental" {
		if err := r.planCursor(ctx, table, &p); err != nil {
			return p, sourceErr(r.stream.Name, err)
		}
	}
	p.Ranges, err = mysql.PlanRanges(ctx, r.ep.db, table, r.syncer.Project.Settings.Sync.ChunkRows)
	if err != nil {
		return p, sourceErr(r.stream.Name, fmt.Errorf("plan ranges: %w", err))
	}
	raw, err = json.Marshal(p)
	if err != nil {
		return p, err
	}
	return p, r.syncer.State.SavePlan(ctx, r.job.ID, r.stream.Name, raw)
}

// planCursor fixes the incremental bounds: after the committed cursor, up to
// the maximum at the start of the job, so rows committed while the job runs
// are read by the next one instead of being skipped.
func (r *streamRun) planCursor(ctx context.Context, table schema.Table, p *plan) error {
	if len(r.stream.CursorField) != 1 {
		return fmt.Errorf("incremental stream %s needs exactly one cursor_field column, got %v", r.stream.Name, r.stream.CursorField)
	}
	col, ok := table.Column(r.stream.CursorField[0])
	if !ok {
		return fmt.Errorf("cursor_field %s is not a column of %s.%s", r.stream.CursorField[0], table.Namespace, table.Name)
	}
	p.CursorColumn = col.Name
	cur, found, err := r.syncer.State.GetCursor(ctx, r.conn.ResourceName, r.stream.Name)
	if err != nil {
		return err
	}
	if found {
		v := cur.Value
		p.CursorAfter = &v
	}
	upTo, any, err := mysql.CursorMax(ctx, r.ep.db, table, col.Name)
	if err != nil {
		return fmt.Errorf("read cursor bound: %w", err)
	}
	if any {
		p.CursorUpTo = &upTo
	}
	return nil
}

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
	if len(todo) == 0 {
		return resumed, nil
	}
	spool, err := os.MkdirTemp(r.syncer.Project.Settings.Sync.SpoolDir, "acode-spool-")
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
			errs[w] = r.worker(ctx, table, s, p, queue, spool, sp, qs)
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
// ranges it holds. The rows it encodes feed its own quality statistics,
// merged into the stream's when all its parts are uploaded.
func (r *streamRun) worker(ctx context.Context, table schema.Table, s *parquet.Schema, p plan, queue <-chan mysql.Range, spool string, sp *StreamProgress, qs *quality.Stream) error {
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
	qw := qs.NewWorker()
	up := newUploader(func(p *part) error { return r.upload(ctx, p, sp) })
	defer up.wait() // an early return waits too: no upload outlives its worker
	for rg := range queue {
		if cur == nil {
			var err error
			if cur, err = r.startPart(ctx, spool, s, rg.Index); err != nil {
				return err
			}
		}
		if err := r.readRange(ctx, table, rg, opts, cur, sp, qw); err != nil {
			return err
		}
		cur.ranges = append(cur.ranges, rg.Index)
		if cur.w.Size() >= fileSize {
			err := r.flush(cur, up)
			cur = nil
			if err != nil {
				return err
			}
		}
	}
	if cur != nil {
		err := r.flush(cur, up)
		cur = nil
		if err != nil {
			return err
		}
	}
	if err := up.wait(); err != nil {
		return err
	}
	qs.Add(qw)
	return nil
}

// startPart starts the part file whose first range is first, and its
// upload beside the encoding when the destination takes streams (S3). The
// file backend takes the finished file by a link instead.
func (r *streamRun) startPart(ctx context.Context, spool string, s *parquet.Schema, first int) (*part, error) {
	key := stagingKey(r.conn, r.job.ID, r.stream.Name, first)
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

func (r *streamRun) readRange(ctx context.Context, table schema.Table, rg mysql.Range, opts mysql.ReadOptions, cur *part, sp *StreamProgress, qw *stats.Worker) error {
	select {
	case r.reads <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.reads }()
	var encodeErr error
	if qw != nil && r.syncer.Project.Settings.Quality.CountSource {
		opts.Counted = cur.addCounted // the completeness check's source side
	} else {
		cur.addCounted(-1)
	}
	_, err := mysql.ReadRange(ctx, r.ep.db, table, rg, opts, func(row [][]byte) error {
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
		return sourceErr(r.stream.Name, fmt.Errorf("read range %d: %w", rg.Index, err))
	}
	return nil
}

// flush closes a finished part and hands it to the worker's uploader.
func (r *streamRun) flush(cur *part, up *uploader) error {
	if cur.w.Rows() == 0 {
		cur.discard()
		return nil
	}
	if err := cur.close(); err != nil {
		return destErr(r.stream.Name, err)
	}
	return up.start(cur)
}

// upload puts a closed part into staging and records it, so a retry skips
// its ranges.
func (r *streamRun) upload(ctx context.Context, cur *part, sp *StreamProgress) error {
	key, ranges, counted := cur.key, cur.ranges, cur.counted
	started := time.Now()
	out, err := cur.upload(ctx, r.ep.store)
	if err != nil {
		return destErr(r.stream.Name, err)
	}
	r.log.Debug("part stored", "key", key, "bytes", out.size, "wait_seconds", time.Since(started).Seconds())
	sp.bytes.Add(out.size)
	return r.syncer.State.RecordPart(ctx, state.Part{
		JobID: r.job.ID, Stream: r.stream.Name, Key: key, Ranges: ranges,
		Rows: out.rows, Bytes: out.size, SHA256: out.sha256, SourceRows: counted, Pending: out.pending,
	})
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
	var rep quality.StreamReport
	m.Stats, m.Quality, rep = r.checkQuality(ctx, q, staged, sourceRows(parts))
	if len(rep.Errors()) > 0 && r.syncer.Project.Settings.Quality.Quarantine {
		return r.quarantine(ctx, l, m, staged, rep)
	}
	committed, err := snapshot.Publish(ctx, r.ep.store, l, m, staged, incremental)
	if err != nil {
		if committed == nil {
			r.forgetLost(ctx, err)
			return streamOutput{}, destErr(r.stream.Name, err)
		}
		r.log.Warn("committed with leftovers", "err", err)
	}
	if err := r.syncer.State.RecordCommit(ctx, state.Commit{
		Connection: r.conn.ResourceName, Stream: r.stream.Name, Partition: l.Partition,
		JobID: r.job.ID, ManifestKey: l.ManifestKey(), Rows: committed.Rows, Bytes: committed.Bytes,
		Files: len(committed.Files), Source: r.role, Status: state.CommitStatus(committed.Status),
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

func (r *streamRun) saveResult(ctx context.Context, res StreamResult) {
	ctx = context.WithoutCancel(ctx)
	err := r.syncer.State.SaveStreamResult(ctx, state.StreamResult{
		JobID: r.job.ID, Stream: res.Name, Partition: res.Partition, Status: res.Status,
		Rows: res.Rows, Bytes: res.Bytes, Files: res.Files, ManifestKey: res.Manifest, Error: res.Error,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		r.log.Error("record stream result", "err", err)
	}
}

// jobUUID is ${UUID} for a job: one value per job, the same in every attempt.
func jobUUID(job state.Job) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("acode:job:"+job.Connection+":"+strconv.FormatInt(job.ID, 10))).String()
}

func parquetType(f parquet.Field) string {
	if f.Logical == "" {
		return f.Physical
	}
	return f.Physical + " " + f.Logical
}
