package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// owner is the name this runner's jobs carry in the state.
func (r *Runner) owner() string {
	if r.opts.Owner != "" {
		return r.opts.Owner
	}
	return state.DefaultOwner()
}

// takeOver claims the abandoned jobs TakeOver accepts and runs each on in
// this process under its own id. Their next attempt resumes the ranges the
// dead (or stalled) owner uploaded; the stalled owner, should it wake, is
// fenced off by the state (state.ErrLostJob).
func (r *Runner) takeOver() {
	if r.opts.TakeOver == nil {
		return
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return
	}
	free := r.free()
	claimed, err := r.syncer.State.ClaimAbandoned(r.base, r.owner(), func(j state.Job) bool {
		if free <= 0 || !r.opts.TakeOver(j) {
			return false
		}
		free--
		return true
	})
	if err != nil {
		if r.base.Err() == nil {
			r.log.Warn("take over abandoned jobs", "err", err)
		}
		return
	}
	for _, j := range claimed {
		r.log.Warn("took over a job whose process stopped; resuming it", "job_id", j.ID, "connection", j.Connection, "previous_owner_lost", true)
		r.resume(j)
	}
	r.takeOverRuns()
}

// resume runs a claimed job in a goroutine the runner owns, tracked like a
// triggered one (Cancel, Progress, Shutdown).
func (r *Runner) resume(j state.Job) {
	jobCtx, cancel := context.WithCancelCause(r.base)
	rn := &run{job: j, progress: syncer.NewProgress(), cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	r.active[rn] = struct{}{}
	r.running[j.ID] = rn
	r.mu.Unlock()
	go func() {
		defer close(rn.done)
		defer cancel(nil)
		lease := r.openRun(r.chainHead(j.ID))
		resume := r.syncer.Resume
		if r.opts.Resume != nil {
			resume = r.opts.Resume
		}
		res, err := resume(jobCtx, j, syncer.Options{
			MaxAttempts: r.opts.MaxAttempts,
			RetryDelay:  r.opts.RetryDelay,
			Progress:    rn.progress,
			Owner:       r.owner(),
			Lease:       lease,
		})
		r.mu.Lock()
		delete(r.active, rn)
		delete(r.running, j.ID)
		r.mu.Unlock()
		r.closeRun(lease)
		if err != nil && lostWork(err) {
			return // another process runs it now and tells its end
		}
		if res != nil && r.opts.OnJobEnd != nil {
			r.opts.OnJobEnd(res, err)
		}
	}()
}

// lostWork reports whether err says another replica took the job or the
// run over: that replica tells its end.
func lostWork(err error) bool {
	return errors.Is(err, state.ErrLostJob) || errors.Is(err, state.ErrLostRun)
}

// cancelElsewhere records the cancel of a live job another replica runs:
// the job reads cancelled at once through every replica's API, and the
// running replica's next heartbeat (state.ErrJobEnded) stops the run.
func (r *Runner) cancelElsewhere(ctx context.Context, j state.Job) (state.Job, error) {
	msg := fmt.Sprintf("cancelled through %s while %s ran it", r.owner(), j.Owner)
	if j.Queued() {
		msg = fmt.Sprintf("cancelled through %s while it waited in the queue", r.owner())
	}
	r.log.Info("cancelling a job this replica does not run", "job_id", j.ID, "owner", j.Owner)
	if err := r.syncer.State.FinishJob(ctx, j.ID, state.JobCancelled, msg, -1, -1); err != nil && !errors.Is(err, state.ErrJobEnded) {
		return j, fmt.Errorf("cancel job %d: %w", j.ID, err)
	}
	return r.syncer.State.Job(ctx, j.ID)
}
