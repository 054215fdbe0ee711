package jobs

import (
	"context"
	"time"
)

// openRun records in the state that this runner drives the chain head
// begins, so every replica answers for it as live (RunLive) between the
// chain's jobs; a no-op unless Options.RunFresh is set.
func (r *Runner) openRun(head int64) {
	if r.opts.RunFresh <= 0 || head == 0 {
		return
	}
	if err := r.syncer.State.OpenRun(r.base, head, r.owner()); err != nil && r.base.Err() == nil {
		r.log.Warn("record the run in the state", "job_id", head, "err", err)
	}
}

// closeRun records that this runner's run of the chain head began ended.
func (r *Runner) closeRun(head int64) {
	if r.opts.RunFresh <= 0 || head == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.base), 10*time.Second)
	defer cancel()
	if err := r.syncer.State.CloseRun(ctx, head, r.owner()); err != nil {
		r.log.Warn("record the run's end in the state", "job_id", head, "err", err)
	}
}

// chainHead is the first job of the chain id belongs to (id itself when
// the state cannot say).
func (r *Runner) chainHead(id int64) int64 {
	head, err := r.syncer.State.ChainHead(r.base, id)
	if err != nil {
		return id
	}
	return head
}

// RunLive reports whether the run job id began still goes on, here or, on
// a shared state (Options.RunFresh), on a live replica: a failover pair's
// run between its jobs or promoting reads running through every replica's
// API, not only through the one that drives it.
func (r *Runner) RunLive(ctx context.Context, id int64) bool {
	if r.Runs(id) {
		return true
	}
	if r.opts.RunFresh <= 0 {
		return false
	}
	live, err := r.syncer.State.RunLive(ctx, id, r.opts.RunFresh)
	return err == nil && live
}
