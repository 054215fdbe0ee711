package syncer

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/quality"
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
	scratch  string  // the job's scratch dir: spool and kept files
	nulled   nulledCounter
	// task is set when this run is a range worker's read of one queued
	// range of a job another replica may own (rangework.go).
	task *state.RangeTask
}

func (r *streamRun) run(ctx context.Context) (StreamResult, error) {
	ns := r.conn.Namespace(r.stream)
	res := StreamResult{Name: r.stream.Name, Namespace: ns, Status: StreamRunning, Files: []string{}}
	table, ok := r.ep.tables[ns+"."+r.stream.Name]
	if !ok {
		err := r.ep.undiscovered[ns+"."+r.stream.Name]
		if err == nil {
			err = failure.Source(r.stream.Name, &mysql.TableNotFoundError{Database: ns, Table: r.stream.Name})
		}
		return r.failed(ctx, res, streamOutput{}, err)
	}
	l := layout.ForStream(r.conn.Destination.BucketPath, r.conn.Destination.PathFormat, layout.Vars{
		Namespace: ns, Stream: r.stream.Name, Time: r.job.CreatedAt, UUID: jobUUID(r.job),
	})
	res.Partition = l.Partition
	r.saveResult(ctx, res)
	sp := r.progress.stream(r.stream.Name, table.EstimatedRows)
	sp.Started = time.Now()
	sp.setState("reading")
	out, err := r.sync(ctx, table, l, sp)
	if err != nil {
		sp.setState("failed")
		return r.failed(ctx, res, out, err)
	}
	sp.setState("committed")
	res.Status = StreamCommitted
	res.Rows, res.Bytes, res.Files, res.Manifest = out.rows, out.bytes, out.files, l.ManifestKey()
	res.RangesResumed, res.NulledValues = out.resumed, r.nulledCounts()
	r.saveResult(ctx, res)
	return res, nil
}

// failed records the stream's failure: quarantined when it failed its
// quality gate (its files are under _quarantine/), cancelled when the job
// was, else failed.
func (r *streamRun) failed(ctx context.Context, res StreamResult, out streamOutput, err error) (StreamResult, error) {
	res.Status, res.Error, res.NulledValues = StreamFailed, err.Error(), r.nulledCounts()
	if errors.Is(err, state.ErrLostJob) || errors.Is(context.Cause(ctx), state.ErrLostJob) {
		return res, err // the process that took the job over records its streams
	}
	switch {
	case errors.Is(err, quality.ErrValidationFailed):
		res.Status, res.Rows, res.Bytes, res.Files = StreamQuarantined, out.rows, out.bytes, out.files
	case errors.Is(ctx.Err(), context.Canceled), ctx.Err() != nil && errors.Is(err, context.Canceled):
		// Cancelled with the job, whatever the cut read reported.
		res.Status = StreamCancelled
	}
	r.saveResult(ctx, res)
	return res, err
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
		return streamOutput{}, failure.Destination(r.stream.Name, err)
	} else if len(deleted) > 0 {
		r.log.Info("removed files of crashed or superseded jobs", "partition", l.Partition, "files", len(deleted))
	}
	if d, ok := store.(storage.Deferrer); ok && !r.syncer.SharedRanges {
		if r.direct, err = r.startDirect(ctx, d, l, recorded); err != nil {
			return streamOutput{}, failure.Destination(r.stream.Name, err)
		}
		defer r.direct.close()
	}
	pqSchema, err := r.parquetSchema(table)
	if err != nil {
		return streamOutput{}, err
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
		r.log.Info("ranges resumed from earlier attempts", "attempt", r.attempt, "ranges_resumed", resumed, "ranges", len(p.Ranges))
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

func (r *streamRun) saveResult(ctx context.Context, res StreamResult) {
	ctx = context.WithoutCancel(ctx)
	err := r.syncer.State.SaveStreamResult(ctx, state.StreamResult{
		JobID: r.job.ID, Stream: res.Name, Partition: res.Partition, Status: string(res.Status),
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
