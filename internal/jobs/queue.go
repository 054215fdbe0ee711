package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// defaultClaimEvery is how often a runner polls the queue for jobs queued
// through other replicas: short, so a job waits about a second for a free
// slot anywhere; a poll that finds nothing is one indexed read.
const defaultClaimEvery = time.Second

// handOffWait bounds how long Shutdown waits for a stopped job to let go
// before it releases the job anyway (the attempt it fences is then the
// one that would still write).
const handOffWait = 15 * time.Second

// errHandOff stops a job this runner hands back to the queue: like a job
// lost to another replica, it records no end and keeps its staged parts.
var errHandOff = fmt.Errorf("%w: this replica shuts down and hands the job to another", state.ErrLostJob)

// queues reports whether the jobs of connection are queued work.
func (r *Runner) queues(connection string) bool {
	return r.opts.Queue != nil && r.opts.Queue(connection)
}

// enqueue records a job of connection as queued work and wakes this
// runner's claim loop; the job is returned pending, as Trigger's are.
func (r *Runner) enqueue(ctx context.Context, connection string) (state.Job, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return state.Job{}, ErrShuttingDown
	}
	j, err := r.syncer.State.EnqueueJob(ctx, connection, "primary")
	if err != nil {
		return state.Job{}, err
	}
	r.log.Info("job queued", "job_id", j.ID, "connection", j.Connection)
	select {
	case r.pokes <- struct{}{}:
	default: // a claim is already due
	}
	return j, nil
}

// free is how many more jobs this runner may start now.
func (r *Runner) free() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed || r.opts.MaxJobs < 0:
		return 0
	case r.opts.MaxJobs == 0:
		return math.MaxInt32
	}
	return max(0, r.opts.MaxJobs-len(r.active))
}

// claimLoop claims queued jobs while this runner has free slots, every
// ClaimEvery and whenever a job is queued here, until ctx ends.
func (r *Runner) claimLoop(ctx context.Context) {
	defer close(r.claimDone)
	if r.opts.Queue == nil {
		<-ctx.Done()
		return
	}
	every := r.opts.ClaimEvery
	if every <= 0 {
		every = defaultClaimEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.pokes:
		}
		r.claim(ctx)
	}
}

// claim takes as many queued jobs as this runner has free slots and runs
// each under its id.
func (r *Runner) claim(ctx context.Context) {
	free := r.free()
	if free == 0 {
		return
	}
	jobs, err := r.syncer.State.ClaimQueued(ctx, r.owner(), free, func(j state.Job) bool {
		// Queued connections' jobs, and jobs another runner handed back
		// mid-run (a failover pair's too) that this one can resume.
		return r.queues(j.Connection) || (j.StartedAt != nil && r.resumable(j))
	})
	if err != nil && ctx.Err() == nil {
		r.log.Warn("claim queued jobs", "err", err)
	}
	for _, j := range jobs {
		r.log.Info("claimed a queued job", "job_id", j.ID, "connection", j.Connection, "status", j.Status)
		r.resume(j)
	}
}

// resumable reports whether a runner like this one resumes j when it is
// handed back mid-run: on a shared state (TakeOver), a queued
// connection's job, or any job when Resume can take its run on (a
// failover pair's, resumed as the pair's run).
func (r *Runner) resumable(j state.Job) bool {
	return r.opts.TakeOver != nil && r.opts.TakeOver(j) && (r.queues(j.Connection) || r.opts.Resume != nil)
}

// handsOff reports whether another replica would resume j when this one
// releases it.
func (r *Runner) handsOff(j state.Job) bool {
	return j.ID != 0 && r.resumable(j)
}

// handOff stops the runs whose jobs another replica can resume, each where
// its uploaded parts are recorded, and releases their jobs to the queue.
// It returns the other runs, which get the grace period.
func (r *Runner) handOff(ctx context.Context, runs []*run) (stay []*run) {
	var moving []*run
	r.mu.Lock()
	for _, rn := range runs {
		if r.handsOff(rn.job) {
			moving = append(moving, rn)
		} else {
			stay = append(stay, rn)
		}
	}
	r.mu.Unlock()
	if len(moving) == 0 {
		return stay
	}
	r.log.Info("handing running jobs to the other replicas", "jobs", len(moving))
	for _, rn := range moving {
		rn.cancel(errHandOff)
	}
	waitCtx, cancel := context.WithTimeout(ctx, handOffWait)
	defer cancel()
	for _, rn := range moving {
		select {
		case <-rn.done:
		case <-waitCtx.Done():
		}
		id := r.liveJobOf(context.WithoutCancel(ctx), rn.job.ID)
		reason := fmt.Sprintf("handed off: %s shut down; another replica resumes the job", r.owner())
		err := r.syncer.State.ReleaseJob(context.WithoutCancel(ctx), id, r.owner(), reason)
		switch {
		case err == nil:
			r.log.Info("job handed off to the queue", "job_id", id, "connection", rn.job.Connection)
		case errors.Is(err, state.ErrJobEnded) || errors.Is(err, state.ErrLostJob):
			r.log.Info("job not handed off: it ended or moved meanwhile", "job_id", id, "err", err)
		default:
			r.log.Warn("hand the job off (another replica takes it over after its lease)", "job_id", id, "err", err)
		}
	}
	return stay
}

// liveJobOf is the job of the chain head begins that is still live: the
// run's current job (a failover pair's run may have moved on to the
// backup's job), head itself when the state cannot say.
func (r *Runner) liveJobOf(ctx context.Context, head int64) int64 {
	chain, err := r.syncer.State.JobChain(ctx, head)
	if err != nil || len(chain) == 0 {
		return head
	}
	return chain[len(chain)-1].ID
}
