package jobs

import (
	"context"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// runRecent bounds how long after its chain's last job ended an abandoned
// run is still continued: a run a replica left days ago (or one recorded
// before runs were taken over) must not fail over or promote now.
const runRecent = 10 * time.Minute

// takeOverRuns claims the runs whose replica stopped between two of
// their jobs or while promoting (nothing live for the job takeover to
// find) and continues each from its chain's last job (Options.ResumeRun)
// under the id the caller holds.
func (r *Runner) takeOverRuns() {
	if r.opts.ResumeRun == nil || r.opts.RunFresh <= 0 {
		return
	}
	free := r.free()
	runs, err := r.syncer.State.ClaimAbandonedRuns(r.base, r.owner(), r.opts.RunFresh, runRecent, func(state.AbandonedRun) bool {
		if free <= 0 {
			return false
		}
		free--
		return true
	})
	if err != nil && r.base.Err() == nil {
		r.log.Warn("take over abandoned runs", "err", err)
	}
	for _, a := range runs {
		r.log.Warn("took over a run whose replica stopped between its jobs; continuing it", "job_id", a.Head,
			"last_job_id", a.Last.ID, "last_status", a.Last.Status, "previous_owner", a.PrevOwner)
		r.resumeRun(a)
	}
}

// resumeRun continues run a in a goroutine the runner owns, tracked under
// the chain's first id like a triggered run (Cancel, RunLive, Shutdown).
func (r *Runner) resumeRun(a state.AbandonedRun) {
	jobCtx, cancel := context.WithCancelCause(r.base)
	rn := &run{job: a.Last, progress: syncer.NewProgress(), cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	r.active[rn] = struct{}{}
	r.running[a.Head] = rn
	r.mu.Unlock()
	go func() {
		defer close(rn.done)
		defer cancel(nil)
		res, err := r.opts.ResumeRun(jobCtx, a.Last, syncer.Options{
			MaxAttempts: r.opts.MaxAttempts,
			RetryDelay:  r.opts.RetryDelay,
			Progress:    rn.progress,
			Owner:       r.owner(),
			Lease:       a.Lease,
		})
		r.mu.Lock()
		delete(r.active, rn)
		delete(r.running, a.Head)
		r.mu.Unlock()
		r.closeRun(a.Lease)
		if err != nil && lostWork(err) {
			r.log.Warn("lost the run to another replica; recording nothing more of it", "job_id", a.Head, "err", err)
			return // another process runs its job (or the run) now and tells its end
		}
		if err != nil {
			r.log.Error("continue the run taken over", "job_id", a.Head, "err", err)
		}
		if res != nil && r.opts.OnJobEnd != nil {
			r.opts.OnJobEnd(res, err)
		}
	}()
}
