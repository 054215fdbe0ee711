// Package jobs runs sync jobs in the background for `acode serve`: a
// trigger returns the job's id at once (Airflow polls it), the job runs in a
// goroutine the Runner owns, a connection runs one job at a time, a job can
// be cancelled by id, and Shutdown stops them all cleanly.
//
// It is the top of the three layers that run a job: it decides when and
// where a job runs (in this process, in the background), not how. How is
// package syncer (one job against one source) or, for a failover pair,
// package pairsync (which source, retries, failover), given as the
// Options.Run.
//
// With Options.Queue a triggered job is not run by the process that
// received the request: it is recorded as queued work in the state store
// (queue.go), and whichever runner sharing that store has a free slot
// (Options.MaxJobs) claims it. On shutdown such a runner hands its jobs
// back to the queue at once instead of letting them run out a grace.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

var (
	// ErrShuttingDown is returned by Trigger once Shutdown has begun.
	ErrShuttingDown = errors.New("acode is shutting down; no new jobs are accepted")
)

// NotOwnedError is returned by Cancel for a live job that another process
// (an `acode sync` on a terminal, another server) runs: this process cannot
// stop it.
type NotOwnedError struct {
	Job state.Job
}

func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("job %d of %s is run by %s, not by this server; stop it there", e.Job.ID, e.Job.Connection, e.Job.Owner)
}

// Options tune a Runner.
type Options struct {
	// MaxAttempts and RetryDelay are handed to every job (see syncer.Options).
	MaxAttempts int
	RetryDelay  time.Duration
	// Grace is how long Shutdown lets running jobs finish before it cancels
	// them.
	Grace time.Duration
	// ReapEvery is how often jobs abandoned by dead processes are marked
	// failed, so pollers see them end; 0 disables it.
	ReapEvery time.Duration
	// Run, when set, runs a triggered job instead of the syncer's Run: the
	// pairsync orchestrator routes a pair's jobs to the side its state
	// machine names. It must call opts.OnJobCreated once, with the job it
	// hands to the caller, and return the result of the job it ran last.
	Run func(ctx context.Context, connection string, opts syncer.Options) (*syncer.Result, error)
	// TakeOver, when set (a PostgreSQL state shared by several replicas),
	// makes the reaper take over abandoned jobs for which it returns true
	// and run them on here under their own id (syncer.Resume) instead of
	// failing them; the others are failed as before. It also lets Cancel
	// end a job another replica runs: the cancel is recorded in the state,
	// and that replica's heartbeat stops the run.
	TakeOver func(state.Job) bool
	// Resume, when set, runs a job this runner claimed from the queue or
	// took over, instead of the syncer's Resume: the pairsync orchestrator
	// resumes a failover pair's job as the pair's run. It returns the
	// result of the job it ran last.
	Resume func(ctx context.Context, job state.Job, opts syncer.Options) (*syncer.Result, error)
	// ResumeRun, when set with TakeOver and RunFresh, continues a run
	// another replica abandoned with no job of its chain live (between
	// its jobs, or promoting), from last, the chain's last job: the
	// pairsync orchestrator runs the backup's job continuing it or redoes
	// the promotion. It returns the result of the job it ran, if any.
	ResumeRun func(ctx context.Context, last state.Job, opts syncer.Options) (*syncer.Result, error)
	// Owner names this process in the jobs it takes over; state's
	// DefaultOwner when empty.
	Owner string
	// OnJobEnd, when set, is called with every job's result when it ends
	// (metrics, alerts). It runs on the job's goroutine and must not block.
	OnJobEnd func(res *syncer.Result, err error)
	// Queue, when set, makes Trigger queue the jobs of the connections it
	// returns true for instead of running them in this process: the job is
	// recorded pending with no owner and any runner on the same state with
	// a free slot claims it (the same one when it is alone, as on SQLite).
	Queue func(connection string) bool
	// MaxJobs bounds the jobs this runner runs at once that it claimed
	// from the queue or took over: 0 is no bound, a negative value none
	// (a replica that serves the API and leaves the work to the others).
	MaxJobs int
	// ClaimEvery is how often the queue is polled for work queued through
	// other replicas (a Trigger here claims at once); 1 s when 0.
	ClaimEvery time.Duration
	// RunFresh, when set (a shared state), makes the runner record the
	// runs it drives in the state, and RunLive count a run another replica
	// recorded as live while that replica was seen within RunFresh.
	RunFresh time.Duration
}

// Runner starts and tracks the jobs of one server process.
type Runner struct {
	syncer *syncer.Syncer
	opts   Options
	log    *slog.Logger

	base       context.Context // parent of every job's context
	cancelBase context.CancelFunc
	reaperDone chan struct{}

	stopClaims context.CancelFunc // ends the claim loop, before Shutdown counts the runs
	claimDone  chan struct{}
	pokes      chan struct{} // a job was queued here: claim now

	mu      sync.Mutex
	closed  bool
	active  map[*run]struct{} // every job goroutine, from start to end
	running map[int64]*run    // the same, by job id once the job exists
}

// run is one job goroutine.
type run struct {
	job      state.Job // set when the job record exists
	progress *syncer.Progress
	cancel   context.CancelCauseFunc
	done     chan struct{}
}

// New returns a Runner for s's project. Call Shutdown to stop it.
func New(s *syncer.Syncer, opts Options) *Runner {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	claimCtx, stopClaims := context.WithCancel(base)
	r := &Runner{
		syncer: s, opts: opts, log: log,
		base: base, cancelBase: cancel, reaperDone: make(chan struct{}),
		stopClaims: stopClaims, claimDone: make(chan struct{}), pokes: make(chan struct{}, 1),
		active: map[*run]struct{}{}, running: map[int64]*run{},
	}
	go r.reap()
	go r.claimLoop(claimCtx)
	return r
}

// Trigger creates a job for connection (its resource_name or ID) and
// returns it as soon as it is recorded, pending; the job runs on in the
// background. A connection with a live job gives *state.AlreadyRunningError;
// an unknown one config.ErrUnknownConnection.
func (r *Runner) Trigger(ctx context.Context, connection string) (state.Job, error) {
	conn, err := r.syncer.Project.Connection(connection)
	if err != nil {
		return state.Job{}, err
	}
	if r.queues(conn.ResourceName) {
		return r.enqueue(ctx, conn.ResourceName)
	}
	jobCtx, cancel := context.WithCancelCause(r.base)
	rn := &run{progress: syncer.NewProgress(), cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel(nil)
		return state.Job{}, ErrShuttingDown
	}
	r.active[rn] = struct{}{}
	r.mu.Unlock()

	created := make(chan state.Job, 1)
	failed := make(chan error, 1)
	go func() {
		defer close(rn.done)
		defer cancel(nil)
		var lease state.RunLease // the run's grant, once its first job is recorded
		run := r.syncer.Run
		if r.opts.Run != nil {
			run = r.opts.Run
		}
		res, err := run(jobCtx, conn.ResourceName, syncer.Options{
			MaxAttempts: r.opts.MaxAttempts,
			RetryDelay:  r.opts.RetryDelay,
			Progress:    rn.progress,
			OnJobCreated: func(j state.Job) state.RunLease {
				r.mu.Lock()
				rn.job = j
				r.running[j.ID] = rn
				r.mu.Unlock()
				lease = r.openRun(j.ID)
				created <- j
				return lease
			},
		})
		r.mu.Lock()
		delete(r.active, rn)
		delete(r.running, rn.job.ID)
		r.mu.Unlock()
		r.closeRun(lease)
		if res == nil {
			failed <- err
			return
		}
		if errors.Is(err, state.ErrLostRun) {
			r.log.Warn("lost the run to another replica; recording nothing more of it", "job_id", rn.job.ID, "err", err)
		}
		if lostWork(err) {
			return // another process runs it now (or will: handed off) and tells its end
		}
		if r.opts.OnJobEnd != nil {
			r.opts.OnJobEnd(res, err)
		}
	}()
	select {
	case j := <-created:
		r.log.Info("job triggered", "job_id", j.ID, "connection", j.Connection)
		return j, nil
	case err := <-failed:
		return state.Job{}, err
	case <-ctx.Done():
		// The job may still start; it is the runner's, not the caller's.
		return state.Job{}, ctx.Err()
	}
}

// Cancel stops job id if this process runs it (or the run it belongs to,
// for a job that continues another), waits until its end is
// recorded and returns the job as stored. If ctx ends first, the job is
// returned as it is then (still stopping; it will read cancelled). A job
// that has already ended is returned as is. A live job run by another
// process gives *NotOwnedError; an unknown id state.ErrNotFound.
func (r *Runner) Cancel(ctx context.Context, id int64) (state.Job, error) {
	r.mu.Lock()
	rn, ok := r.running[id]
	r.mu.Unlock()
	if !ok {
		// A job that continues another (the in-job failover's backup job)
		// runs in the run its chain's first job began.
		if head, err := r.syncer.State.ChainHead(ctx, id); err == nil && head != id {
			r.mu.Lock()
			rn, ok = r.running[head]
			r.mu.Unlock()
		}
	}
	if ok {
		r.log.Info("cancelling job", "job_id", id)
		rn.cancel(nil)
		select {
		case <-rn.done:
		case <-ctx.Done():
			// The cancel stands; report the job as it is now.
			readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			ctx = readCtx
		}
	}
	j, err := r.syncer.State.Job(ctx, id)
	if err != nil {
		return state.Job{}, err
	}
	if !ok && !j.Status.Terminal() {
		if j.Queued() {
			return r.cancelElsewhere(ctx, j) // no runner holds it yet
		}
		if r.opts.TakeOver == nil {
			return j, &NotOwnedError{Job: j}
		}
		return r.cancelElsewhere(ctx, j)
	}
	return j, nil
}

// Progress returns the live counters of job id while this process runs it.
func (r *Runner) Progress(id int64) (*syncer.Progress, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rn, ok := r.running[id]
	if !ok {
		return nil, false
	}
	return rn.progress, true
}

// Runs reports whether this process still runs the run that job id began.
// A failover pair's run goes on after its first job has ended (probing the
// primary, syncing the backup, promoting): the job's stored status is not
// yet the run's outcome.
func (r *Runner) Runs(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[id]
	return ok
}

// Running returns the ids of the jobs this process runs now.
func (r *Runner) Running() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]int64, 0, len(r.running))
	for id := range r.running {
		ids = append(ids, id)
	}
	return ids
}

// Shutdown refuses new jobs, lets running ones finish for the Grace period,
// then cancels them (each is recorded as cancelled) and waits for them to
// end. It returns ctx's error if they have not all ended when ctx does.
//
// Jobs another replica can resume (Queue and TakeOver accept them) do not
// wait for the grace: they are stopped at once, where their uploaded parts
// are recorded, and released to the queue, so another replica claims them
// within its ClaimEvery and resumes the parts already uploaded.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	first := !r.closed
	r.closed = true
	r.mu.Unlock()
	r.stopClaims()
	<-r.claimDone // no claim may start a run this shutdown does not see
	r.mu.Lock()
	runs := make([]*run, 0, len(r.active))
	for rn := range r.active {
		runs = append(runs, rn)
	}
	r.mu.Unlock()
	stay := runs
	if first {
		stay = r.handOff(ctx, runs)
	}
	if first && len(stay) > 0 && r.opts.Grace > 0 {
		r.log.Info("waiting for running jobs to finish", "jobs", len(stay), "grace", r.opts.Grace)
		graceCtx, cancel := context.WithTimeout(ctx, r.opts.Grace)
		_ = waitAll(graceCtx, stay)
		cancel()
	}
	r.cancelBase() // cancels every job still running, and the reaper
	<-r.reaperDone
	if err := waitAll(ctx, runs); err != nil {
		return fmt.Errorf("shut down jobs: %w", err)
	}
	return nil
}

// waitAll waits until every run has ended or ctx is done.
func waitAll(ctx context.Context, runs []*run) error {
	for _, rn := range runs {
		select {
		case <-rn.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// cleanScratch removes the local scratch dirs dead jobs of connection
// ("" = every connection) left.
func (r *Runner) cleanScratch(connection string) {
	removed, err := r.syncer.CleanScratch(r.base, connection)
	if err != nil && r.base.Err() == nil {
		r.log.Warn("remove scratch dirs of dead jobs", "err", err)
	}
	for _, d := range removed {
		r.log.Info("removed scratch dir of a dead job", "job_id", d.JobID, "connection", d.Connection, "bytes", d.Bytes)
	}
}

// reap marks jobs whose owner died as failed, every ReapEvery, until
// Shutdown.
//
// It first removes the scratch dirs every dead job left, so a service that
// starts after a crash frees the disk before its first job.
func (r *Runner) reap() {
	defer close(r.reaperDone)
	r.cleanScratch("")
	if r.opts.ReapEvery <= 0 {
		<-r.base.Done()
		return
	}
	t := time.NewTicker(r.opts.ReapEvery)
	defer t.Stop()
	for {
		select {
		case <-r.base.Done():
			return
		case <-t.C:
			r.takeOver()
			jobs, err := r.syncer.State.ReapAbandoned(r.base)
			if err != nil && r.base.Err() == nil {
				r.log.Warn("reap abandoned jobs", "err", err)
			}
			for _, j := range jobs {
				r.log.Warn("job abandoned by its process marked failed", "job_id", j.ID, "connection", j.Connection, "owner", j.Owner)
				r.cleanScratch(j.Connection)
			}
		}
	}
}

// TriggerScheduled starts a job of connection for a schedule's fire, as
// Trigger does. A connection whose previous job still runs skips this
// slot, as Airbyte does, and a runner that is shutting down fires
// nothing: neither is an error of the schedule.
func (r *Runner) TriggerScheduled(ctx context.Context, connection string) error {
	j, err := r.Trigger(ctx, connection)
	var busy *state.AlreadyRunningError
	switch {
	case errors.As(err, &busy):
		r.log.Info("scheduled sync skipped: the previous job still runs", "connection", connection, "job_id", busy.JobID)
		return nil
	case errors.Is(err, ErrShuttingDown):
		return nil
	case err != nil:
		return err
	}
	r.log.Info("scheduled sync started", "connection", connection, "job_id", j.ID)
	return nil
}
