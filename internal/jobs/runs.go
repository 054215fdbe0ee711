package jobs

import (
	"context"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// openRun records in the state that this runner drives the chain head
// begins, so every replica answers for it as live (RunLive) between the
// chain's jobs, and returns the grant the run's writes carry (a replica
// that drove it before is fenced off); a no-op unless Options.RunFresh is
// set.
func (r *Runner) openRun(head int64) state.RunLease {
	if r.opts.RunFresh <= 0 || head == 0 {
		return state.RunLease{}
	}
	l, err := r.syncer.State.OpenRun(r.base, head, r.owner())
	if err != nil && r.base.Err() == nil {
		r.log.Warn("record the run in the state", "job_id", head, "err", err)
	}
	return l
}

// closeRun records that the run l grants ended.
func (r *Runner) closeRun(l state.RunLease) {
	if r.opts.RunFresh <= 0 || l.Head == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.base), 10*time.Second)
	defer cancel()
	if err := r.syncer.State.CloseRun(ctx, l); err != nil {
		r.log.Warn("record the run's end in the state", "job_id", l.Head, "err", err)
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
