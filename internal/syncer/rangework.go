package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/state"
)

// RangeWorkers is one replica's pool of range workers: each claims a range
// task of any job in the state (state.ClaimRange, within the source's
// cluster-wide read budget), reads that one range from the job's source,
// encodes it into one Parquet part, uploads it to the job's staging area
// and records it, fenced by its claim and the job's attempt. A worker that
// dies leaves its claim to expire after Lease; one that stalls past it
// finds its claim gone and records nothing.
type RangeWorkers struct {
	Syncer  *Syncer
	Owner   string        // this process in the claims (host:pid)
	Workers int           // goroutines; default readWorkers of max_parallel_reads
	Lease   time.Duration // a claim's lease, renewed every Lease/3; default 30 s
	Poll    time.Duration // pause when nothing can be claimed; default 500 ms
	Log     *slog.Logger
}

// Start runs the workers until ctx ends or stop is called; stop waits for
// them (a range being read is given back to the queue).
func (w *RangeWorkers) Start(ctx context.Context) (stop func()) {
	st := w.Syncer.Project.Settings.Sync
	n := w.Workers
	if n <= 0 {
		n = readWorkers(st.MaxParallelReads, st.MaxParallelReads)
	}
	if w.Lease <= 0 {
		w.Lease = 30 * time.Second
	}
	if w.Poll <= 0 {
		w.Poll = 500 * time.Millisecond
	}
	// max_rows_per_second holds per replica: its workers share one limiter.
	limit := mysql.NewRowLimiter(st.MaxRowsPerSecond)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rw := &rangeWorker{pool: w, limit: limit, log: w.Log.With("range_worker", i)}
			rw.run(ctx)
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// rangeWorker is one goroutine of the pool; it keeps the endpoints of the
// job it last read for, since a job's ranges come one after another.
type rangeWorker struct {
	pool   *RangeWorkers
	limit  *mysql.RowLimiter
	log    *slog.Logger
	ep     *endpoints
	epJob  int64
	epName string
}

func (w *rangeWorker) run(ctx context.Context) {
	defer w.closeEndpoints()
	for ctx.Err() == nil {
		task, ok, err := w.pool.Syncer.State.ClaimRange(ctx, w.pool.Owner, w.pool.Lease)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("claim a range task", "err", err)
		}
		if !ok {
			w.closeEndpoints() // idle: hold no connection to any source
			if sleepCtx(ctx, w.pool.Poll) != nil {
				return
			}
			continue
		}
		w.work(ctx, task)
	}
}

// work reads one claimed range and records its part, or gives the range
// back (FailRange) when the read failed for a reason of its own.
func (w *rangeWorker) work(ctx context.Context, task state.RangeTask) {
	log := w.log.With("job_id", task.JobID, "stream", task.Stream, "range", task.Index)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopRenew := w.renew(ctx, task, cancel, log)
	rows, err := w.read(ctx, task, log)
	stopRenew()
	if cause := context.Cause(ctx); err != nil && cause != nil && cause != context.Canceled {
		err = cause // the claim or the job was lost
	}
	switch {
	case err == nil:
		log.Debug("range read and recorded", "rows", rows)
	case errors.Is(err, state.ErrLostRange), errors.Is(err, state.ErrLostJob), errors.Is(err, state.ErrJobEnded):
		log.Warn("range claim lost; its read is dropped", "err", err)
	case ctx.Err() != nil:
		// serve stops: another worker may read the range at once.
		if rerr := w.pool.Syncer.State.ReleaseRange(context.WithoutCancel(ctx), task); rerr != nil {
			log.Warn("give the range back at shutdown", "err", rerr)
		}
	default:
		log.Warn("range read failed; the range goes back to the queue", "err", err)
		if ferr := w.pool.Syncer.State.FailRange(context.WithoutCancel(ctx), task, err); ferr != nil {
			log.Warn("give the range back", "err", ferr)
		}
	}
}

// renew keeps the claim's lease while the range is read and uploaded; a
// lost claim cancels the work.
func (w *rangeWorker) renew(ctx context.Context, task state.RangeTask, lost context.CancelCauseFunc, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.pool.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := w.pool.Syncer.State.RenewRange(ctx, task, w.pool.Lease)
				if errors.Is(err, state.ErrLostRange) || errors.Is(err, state.ErrLostJob) || errors.Is(err, state.ErrJobEnded) {
					lost(err)
					return
				}
				if err != nil && ctx.Err() == nil {
					log.Warn("renew range claim", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// read reads the task's range into one part, uploads it to the job's
// staging area and records it with the task done.
func (w *rangeWorker) read(ctx context.Context, task state.RangeTask, log *slog.Logger) (int64, error) {
	s := w.pool.Syncer
	r, p, rg, err := w.prepare(ctx, task, log)
	if err != nil {
		return 0, err
	}
	ns := r.conn.Namespace(r.stream)
	table, ok := r.ep.tables[ns+"."+r.stream.Name]
	if !ok {
		if err := r.ep.undiscovered[ns+"."+r.stream.Name]; err != nil {
			return 0, err
		}
		return 0, failure.Source(r.stream.Name, &mysql.TableNotFoundError{Database: ns, Table: r.stream.Name})
	}
	pq, err := r.parquetSchema(table)
	if err != nil {
		return 0, err
	}
	spool, err := tempDir(r.scratch, "range", r.stream.Name)
	if err != nil {
		return 0, fmt.Errorf("create spool dir: %w", err)
	}
	defer os.RemoveAll(spool)
	cur, err := r.startPart(ctx, spool, pq, rg.Index)
	if err != nil {
		return 0, err
	}
	defer cur.discard()
	opts := mysql.ReadOptions{CursorColumn: p.CursorColumn, CursorAfter: p.CursorAfter, CursorUpTo: p.CursorUpTo, Limiter: w.limit}
	sp := NewProgress().stream(r.stream.Name, 0)
	qs, err := r.rangeQuality(table) // travels with the part, merged by the job's owner
	if err != nil {
		return 0, err
	}
	qw := qs.NewWorker()
	if err := r.readRange(ctx, r.ep.reader(0), table, rg, opts, cur, sp, qw); err != nil {
		return 0, err
	}
	if err := s.State.EndRead(ctx, task); err != nil {
		return 0, err
	}
	cur.ranges = append(cur.ranges, rg.Index)
	rows := cur.w.Rows()
	if rows == 0 { // a gap in the key: done without a part
		return 0, s.State.RecordRangePart(ctx, task, state.Part{JobID: task.JobID, Stream: task.Stream})
	}
	if err := cur.close(); err != nil {
		return 0, failure.Destination(r.stream.Name, err)
	}
	snap := cur.snapshot()
	out, err := cur.upload(ctx, r.ep.store)
	if err != nil {
		return 0, failure.Destination(r.stream.Name, err)
	}
	return rows, s.State.RecordRangePart(ctx, task, state.Part{
		JobID: task.JobID, Stream: task.Stream, Key: cur.key, Ranges: cur.ranges,
		Rows: out.rows, Bytes: out.size, SHA256: out.sha256, SourceRows: cur.counted,
		SnapshotFile: snap.File, SnapshotPos: snap.Pos, SnapshotGTID: snap.GTID, Nulled: cur.w.Unheld(),
		Stats: summaryText(qw),
	})
}

// prepare builds the stream run of the task's job (its connection and
// stream from this replica's project, the endpoints kept from the last
// task of the same job) and finds the task's range in the job's plan.
func (w *rangeWorker) prepare(ctx context.Context, task state.RangeTask, log *slog.Logger) (*streamRun, plan, mysql.Range, error) {
	s := w.pool.Syncer
	var p plan
	job, err := s.State.Job(ctx, task.JobID)
	if err != nil {
		return nil, p, mysql.Range{}, err
	}
	conn, err := s.Project.Connection(job.Connection)
	if err != nil {
		return nil, p, mysql.Range{}, err
	}
	var str config.Stream
	found := false
	for _, c := range conn.SelectedStreams() {
		if c.Name == task.Stream {
			str, found = c, true
		}
	}
	if !found {
		return nil, p, mysql.Range{}, fmt.Errorf("connection %s of job %d selects no stream %s in this replica's config (%s)", conn.ResourceName, job.ID, task.Stream, conn.File)
	}
	if w.ep == nil || w.epJob != job.ID || w.epName != task.Stream {
		w.closeEndpoints()
		if w.ep, err = s.open(ctx, conn, []config.Stream{str}); err != nil {
			return nil, p, mysql.Range{}, err
		}
		w.epJob, w.epName = job.ID, task.Stream
	}
	r := &streamRun{
		syncer: s, conn: conn, stream: str, job: job, attempt: task.Attempt, role: job.Source,
		ep: w.ep, reads: make(chan struct{}, 1), limit: w.limit, progress: NewProgress(),
		log: log, scratch: s.Scratch().Job(conn.ResourceName, job.ID), task: &task,
	}
	if err := w.loadPlan(ctx, task, &p); err != nil {
		return nil, p, mysql.Range{}, err
	}
	for _, rg := range p.Ranges {
		if rg.Index == task.Index {
			return r, p, rg, nil
		}
	}
	return nil, p, mysql.Range{}, fmt.Errorf("range %d is not in the plan of job %d stream %s", task.Index, job.ID, task.Stream)
}

func (w *rangeWorker) loadPlan(ctx context.Context, task state.RangeTask, p *plan) error {
	raw, ok, err := w.pool.Syncer.State.Plan(ctx, task.JobID, task.Stream)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("job %d stream %s has no saved plan", task.JobID, task.Stream)
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return fmt.Errorf("decode stored plan of job %d stream %s: %w", task.JobID, task.Stream, err)
	}
	return nil
}

func (w *rangeWorker) closeEndpoints() {
	if w.ep != nil {
		w.ep.close()
		w.ep = nil
	}
}
