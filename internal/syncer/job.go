// Package syncer runs one sync job of one connection against the one
// source that connection names: it reads the selected streams from MySQL in
// primary-key ranges, encodes them to Parquet, stages the parts, and commits
// each stream's partition through the snapshot protocol. Retried attempts of
// a job resume from the parts the failed attempt had already uploaded.
//
// It is the lowest of the three layers that run a job, and knows nothing of
// failover pairs or of the service:
//
//   - syncer (this package): one job, one connection, one source. Used as is
//     by `acode sync` for a connection outside a failover pair.
//   - pairsync: the job of a failover pair. It asks the pair's state machine
//     which side to read, calls syncer for that side, retries, fails over
//     inside the job, promotes and reconciles.
//   - jobs: `acode serve`'s background runner. It starts either of the above
//     in a goroutine it owns, one job per connection, and cancels by id.
//
// Per stream, stream.go drives a stream through its stages, each in its own
// file: stream_plan.go fixes the ranges and cursor bounds every attempt
// uses, stream_read.go reads and encodes them into uploaded parts, and
// stream_commit.go publishes the parts as the partition's snapshot.
package syncer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// Syncer runs jobs for the connections of one project.
type Syncer struct {
	Project *config.Project
	State   *state.Store
	Log     *slog.Logger
	// SharedRanges, when set (serve on a PostgreSQL state), makes a
	// stream's ranges range tasks in the state that the range workers of
	// every replica claim (RangeWorkers), within a read budget per source
	// across the cluster; the job's owner waits for them and commits. Its
	// parts then go through the staging area, even on S3. Unset, a job
	// reads its ranges itself, as on one host.
	SharedRanges bool
}

// Options tune one run.
type Options struct {
	// Role labels the source in manifests and job records: primary or backup.
	Role string
	// MaxAttempts is how many attempts the job gets (at least 1); a retried
	// attempt skips the ranges a failed one already uploaded.
	MaxAttempts int
	// RetryDelay is the pause between attempts (unless Retry is set).
	RetryDelay time.Duration
	// Retry, when set, is asked after each failed attempt but the last
	// whether the job gets another one; it does its own waiting (it
	// replaces RetryDelay) and returns false to end the job with the
	// attempt's error. The failover orchestration uses it to stop retrying
	// a source its state machine has left.
	Retry func(ctx context.Context, attempt int, err error) bool
	// Owner identifies this process in the job lock (host:pid).
	Owner string
	// Progress, when set, receives live counters.
	Progress *Progress
	// Sleep waits between attempts; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// heartbeatEvery is how often the job's lease is renewed (tests shorten it).
	heartbeatEvery time.Duration
	// OnJobCreated, when set, is called with the job record as soon as it
	// is created, before the first attempt: a server hands the job id to
	// its caller (Airflow) while the job runs on. It returns the grant of
	// the run the job begins when it recorded one (jobs.Runner on a shared
	// state), as the very write that recorded it returned it: a run that
	// read its grant afterwards could take up another replica's claim made
	// in between. The zero RunLease: none recorded.
	OnJobCreated func(state.Job) state.RunLease
	// Continues, when set, is the job this run's job continues (the
	// failover's backup job continuing the primary's failed one): Run
	// creates the job linked to it in one write, checked against the run's
	// grant Lease, so no replica's death leaves a job outside the chain and
	// a replica that lost the run creates none (state.ErrLostRun).
	Continues int64
	Lease     state.RunLease
}

// Result is what a job did, as `acode sync --json` prints it.
type Result struct {
	JobID      int64          `json:"job_id"`
	Connection string         `json:"connection"`
	Source     string         `json:"source"`
	Status     string         `json:"status"`
	Attempts   int            `json:"attempts"`
	StartedAt  time.Time      `json:"started_at"`
	EndedAt    time.Time      `json:"ended_at"`
	Duration   float64        `json:"duration_seconds"`
	Rows       int64          `json:"rows"`
	Bytes      int64          `json:"bytes"`
	Streams    []StreamResult `json:"streams"`
	Error      string         `json:"error,omitempty"`
}

// StreamStatus is a stream's status in a job, as StreamResult.Status, the
// jobs API and `acode jobs` say it.
type StreamStatus string

const (
	StreamPending     StreamStatus = "pending"                  // not started yet
	StreamRunning     StreamStatus = "running"                  // reading, uploading or committing
	StreamCommitted   StreamStatus = "committed"                // published as its partition's snapshot
	StreamQuarantined StreamStatus = snapshot.StatusQuarantined // failed its quality gate: committed under _quarantine/
	StreamFailed      StreamStatus = "failed"                   // failed; the other streams went on
	StreamCancelled   StreamStatus = "cancelled"                // stopped with the job (cancel, maximum duration)
)

// StreamResult is one stream's outcome.
type StreamResult struct {
	Name      string       `json:"name"`
	Namespace string       `json:"namespace"`
	Status    StreamStatus `json:"status"`
	Rows      int64        `json:"rows"`
	Bytes     int64        `json:"bytes"`
	Files     []string     `json:"files"`
	Partition string       `json:"partition"`
	// RangesResumed counts the key ranges a retried attempt did not read
	// again because an earlier attempt had uploaded them.
	RangesResumed int `json:"ranges_resumed,omitempty"`
	// NulledValues counts, per column, the values this attempt wrote as
	// NULL because the column's Parquet type cannot hold them (zero and
	// partial zero dates); also in the manifest and the quality report.
	NulledValues map[string]int64 `json:"nulled_values,omitempty"`
	Manifest     string           `json:"manifest,omitempty"`
	Error        string           `json:"error,omitempty"`
}

// Run creates a job for the connection and runs it to its end. The returned
// Result is filled even when the job failed; the error says why.
func (s *Syncer) Run(ctx context.Context, connection string, opts Options) (*Result, error) {
	conn, err := s.Project.Connection(connection)
	if err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	var job state.Job
	if opts.Continues != 0 {
		job, err = s.State.CreateContinuingJob(ctx, conn.ResourceName, opts.Role, opts.Owner, opts.Continues, opts.Lease)
	} else {
		job, err = s.State.CreateJob(ctx, conn.ResourceName, opts.Role, opts.Owner)
	}
	if err != nil {
		return nil, err
	}
	return s.runJob(ctx, conn, job, opts)
}

// Resume runs on a job this process has taken over (state.ClaimAbandoned)
// from one that died or stalled: same job id, so whoever polls it (Airflow)
// sees it end, and its next attempt skips the ranges earlier attempts
// uploaded, as a retry does. opts.Owner must be the claim's owner.
func (s *Syncer) Resume(ctx context.Context, job state.Job, opts Options) (*Result, error) {
	conn, err := s.Project.Connection(job.Connection)
	if err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	if opts.Role == "primary" && job.Source != "" {
		opts.Role = job.Source
	}
	return s.runJob(ctx, conn, job, opts)
}

// runJob runs job's attempts to the job's end. A job lost to another
// process (state.ErrLostJob) is left as that process has it: not finished,
// its staging kept.
func (s *Syncer) runJob(ctx context.Context, conn *config.Connection, job state.Job, opts Options) (*Result, error) {
	if opts.OnJobCreated != nil {
		opts.OnJobCreated(job)
	}
	res := &Result{JobID: job.ID, Connection: conn.ResourceName, Source: opts.Role, StartedAt: job.CreatedAt}
	log := s.Log.With("job_id", job.ID, "connection", conn.ResourceName)
	// The job holds the connection's slot: scratch dirs of its earlier
	// jobs are a dead process's. Its own goes when it ends, however it ends.
	s.cleanScratch(ctx, conn.ResourceName, job.ID, log)
	defer os.RemoveAll(s.Scratch().Job(conn.ResourceName, job.ID))

	res.Streams = s.pendingStreams(ctx, conn, job, log)
	runCtx, cancelRun := context.WithCancelCause(ctx)
	stopHeartbeat := s.heartbeat(runCtx, job.ID, opts.Owner, opts.heartbeatEvery, cancelRun, log)
	runErr := s.attempts(runCtx, conn, job, opts, res, log)
	stopHeartbeat()
	if cause := context.Cause(runCtx); errors.Is(cause, state.ErrJobEnded) || errors.Is(runErr, state.ErrJobEnded) {
		runErr = fmt.Errorf("%w: the job was ended by another process (cancelled, or declared abandoned after a stall)", failure.ErrCancelled)
	} else if cause := context.Cause(ctx); runErr != nil && cause != nil && cause != ctx.Err() {
		// The caller's deadline or cancel carries a reason (e.g. the
		// maximum sync duration): the job record says it.
		runErr = fmt.Errorf("%w: %w", cause, runErr)
	}
	cancelRun(nil)
	if lost := context.Cause(runCtx); errors.Is(lost, state.ErrLostJob) || errors.Is(runErr, state.ErrLostJob) {
		res.Status, res.Error = string(state.JobRunning), fmt.Sprintf("this process lost the job to another: %v", runErr)
		log.Warn("job taken over by another process; this process stops without recording its end", "err", runErr)
		return res, fmt.Errorf("job %d: %w", job.ID, state.ErrLostJob)
	}

	res.EndedAt = time.Now().UTC()
	res.Duration = res.EndedAt.Sub(res.StartedAt).Seconds()
	res.Status = string(jobStatus(ctx, runErr))
	if runErr != nil {
		res.Error = runErr.Error()
	}
	// The job record must be closed even when ctx was cancelled.
	finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	s.closeStreams(finishCtx, job, res, log)
	if err := s.finish(finishCtx, job.ID, res, runErr); err != nil && !errors.Is(err, state.ErrJobEnded) {
		log.Error("record job end", "err", err)
	}
	if runErr != nil {
		s.discardStaging(finishCtx, conn, job.ID, log)
	}
	log.Info("job ended", "status", res.Status, "rows", res.Rows, "bytes", res.Bytes, "seconds", res.Duration)
	return res, runErr
}

// finish records the job's end; a failure with its class and side, which a
// replica continuing a failover pair's run feeds to the machine.
func (s *Syncer) finish(ctx context.Context, id int64, res *Result, runErr error) error {
	if state.JobStatus(res.Status) != state.JobFailed {
		return s.State.FinishJob(ctx, id, state.JobStatus(res.Status), res.Error, res.Rows, res.Bytes)
	}
	return s.State.FinishFailedJob(ctx, id, res.Error, string(failure.Classify(runErr)), failure.OnSource(runErr), res.Rows, res.Bytes)
}

func withDefaults(o Options) Options {
	if o.Role == "" {
		o.Role = "primary"
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = 1
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.Progress == nil {
		o.Progress = NewProgress()
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.heartbeatEvery == 0 {
		o.heartbeatEvery = 15 * time.Second
	}
	return o
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// attempts runs the job's attempts until one succeeds or they run out.
func (s *Syncer) attempts(ctx context.Context, conn *config.Connection, job state.Job, opts Options, res *Result, log *slog.Logger) error {
	var err error
	for n := 1; n <= opts.MaxAttempts; n++ {
		if n > 1 && opts.Retry == nil {
			log.Warn("retrying job", "attempt", n, "after", opts.RetryDelay, "err", err)
			if serr := opts.Sleep(ctx, opts.RetryDelay); serr != nil {
				return errors.Join(err, serr)
			}
		}
		att, aerr := s.State.StartAttemptAs(ctx, job.ID, opts.Owner)
		if aerr != nil {
			return aerr
		}
		res.Attempts = n
		err = s.runAttempt(ctx, conn, job, att.Number, opts, res, log)
		status, msg := state.AttemptSucceeded, ""
		if err != nil {
			status, msg = state.AttemptFailed, err.Error()
			if cause := context.Cause(ctx); errors.Is(cause, state.ErrLostJob) && !errors.Is(err, cause) {
				msg = cause.Error() + ": " + msg // the runner handed the job off (its shutdown)
			}
		}
		if ferr := s.State.FinishAttempt(context.WithoutCancel(ctx), job.ID, att.Number, status, msg); ferr != nil {
			log.Error("record attempt end", "err", ferr)
		}
		if err == nil || ctx.Err() != nil || errors.Is(err, state.ErrLostJob) || !retryable(err) {
			return err // a quality failure is in the data: another attempt reads the same rows
		}
		if n < opts.MaxAttempts {
			// Airbyte's word for a job between a failed attempt and its retry.
			if serr := s.State.SetJobStatus(ctx, job.ID, state.JobIncomplete, msg); serr != nil {
				log.Error("record job incomplete", "err", serr)
			}
			if opts.Retry != nil && !opts.Retry(ctx, n, err) {
				return err
			}
		}
	}
	return err
}

// heartbeat keeps the job's lease fresh so another process can tell a live
// job from one whose process died. When the store says the job has ended
// meanwhile (cancelled from the API, or declared abandoned), it stops the
// run: nothing may be written for a job that is over.
func (s *Syncer) heartbeat(ctx context.Context, jobID int64, owner string, every time.Duration, stopRun context.CancelCauseFunc, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := s.State.HeartbeatAs(ctx, jobID, owner)
				switch {
				case errors.Is(err, state.ErrLostJob):
					log.Warn("job taken over by another process; stopping")
					stopRun(err)
					return
				case errors.Is(err, state.ErrJobEnded):
					log.Warn("job ended elsewhere; stopping")
					stopRun(err)
					return
				case err != nil && ctx.Err() == nil:
					log.Warn("job heartbeat", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// endpoints are what one attempt talks to.
type endpoints struct {
	db *sql.DB
	// zdb is the pool of the compressed readers (sync.compressed_reads),
	// nil without them.
	zdb        *sql.DB
	compressed int // readers 0 to compressed-1 read on zdb
	store      storage.Store
	server     mysql.Server
	tables     map[string]schema.Table
	// undiscovered holds why a stream's table could not be described
	// (dropped, renamed, no grant), by "namespace.table".
	undiscovered map[string]error
}

func (s *Syncer) open(ctx context.Context, conn *config.Connection, streams []config.Stream) (*endpoints, error) {
	st := s.Project.Settings.Sync
	store, err := connect.Store(ctx, conn.Destination)
	if err != nil {
		return nil, failure.Destination("", err)
	}
	db, err := connect.Source(ctx, conn.Source, st, st.MaxParallelReads+2)
	if err != nil {
		return nil, failure.Source("", err)
	}
	ep := &endpoints{db: db, store: store, tables: map[string]schema.Table{}}
	if ep.server, err = mysql.ServerInfo(ctx, db); err != nil {
		db.Close()
		return nil, failure.Source("", err)
	}
	if n := min(st.CompressedReads, st.MaxParallelReads); n > 0 {
		if ep.zdb, err = connect.CompressedSource(ctx, conn.Source, st, n); err != nil {
			db.Close()
			return nil, failure.Source("", err)
		}
		ep.compressed = n
	}
	// Each stream's table is discovered on its own: one that is missing
	// or unreadable fails its stream alone (see streamRun.run).
	ep.undiscovered = map[string]error{}
	for _, str := range streams {
		ns := conn.Namespace(str)
		tables, err := mysql.Discover(ctx, db, ns, []string{str.Name})
		if err != nil {
			ep.undiscovered[ns+"."+str.Name] = failure.Source(str.Name, err)
			continue
		}
		ep.tables[ns+"."+str.Name] = tables[0]
	}
	return ep, nil
}

// reader is the pool range reader w reads on: the compressed one for the
// first sync.compressed_reads readers, the plain one for the others.
func (ep *endpoints) reader(w int) *sql.DB {
	if w < ep.compressed {
		return ep.zdb
	}
	return ep.db
}

// close closes the source pools.
func (ep *endpoints) close() {
	ep.db.Close()
	if ep.zdb != nil {
		ep.zdb.Close()
	}
}

func (s *Syncer) discardStaging(ctx context.Context, conn *config.Connection, jobID int64, log *slog.Logger) {
	store, err := connect.Store(ctx, conn.Destination)
	if err != nil {
		return
	}
	if err := deleteStaging(ctx, store, conn, jobID); err != nil {
		log.Warn("delete staged parts of failed job", "err", err)
	}
	if err := abortPendingParts(ctx, store, s.State, conn, jobID); err != nil {
		log.Warn("abort pending uploads of failed job", "err", err)
	}
}

// jobStatus is how a run that returned runErr ends. A caller's cancel makes
// it cancelled whatever error surfaced first: a read cut by the cancel may
// report the closed connection ("driver: bad connection") rather than the
// context. A deadline (the maximum sync duration) is a failure.
func jobStatus(ctx context.Context, runErr error) state.JobStatus {
	switch {
	case runErr == nil:
		return state.JobSucceeded
	case errors.Is(runErr, context.Canceled) || errors.Is(runErr, failure.ErrCancelled),
		errors.Is(ctx.Err(), context.Canceled):
		return state.JobCancelled
	default:
		return state.JobFailed
	}
}
