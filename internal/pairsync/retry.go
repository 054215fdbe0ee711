package pairsync

import (
	"context"
	"database/sql"
	"time"

	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
)

// retryHook is syncer.Options.Retry for one job: after a failed attempt it
// feeds the failure to the machine, and retries the same job (resuming the
// ranges already uploaded) only while the machine still names this
// connection, after the job policy's delay or the primary's backoff,
// whichever is longer.
type retryHook struct {
	r       *run
	conn    string
	delay   time.Duration
	last    failover.Decision
	stopped bool // the hook ended the job: its error is observed already
}

func (h *retryHook) retry(ctx context.Context, attempt int, err error) bool {
	r := h.r
	d, oerr := r.observe(ctx, h.conn, r.lastJob, attempt, err)
	h.last = d
	if oerr != nil {
		r.o.log().Error("feed the failover machine", "err", oerr)
	}
	wait := h.delay
	switch {
	case d.Sync == h.conn:
	case d.Sync == "" && d.RetryAt != nil && h.conn == r.pair.Primary:
		wait = max(wait, d.RetryAt.Sub(r.o.now()))
	default:
		h.stopped = true // the machine left this connection (failover, halt, both unavailable)
		return false
	}
	r.o.log().Warn("retrying the job", "connection", h.conn, "attempt", attempt+1, "after", wait, "err", err)
	if serr := r.o.sleep(ctx, wait); serr != nil {
		h.stopped = true
		return false
	}
	// Meanwhile the serve loop or a person may have moved the pair.
	d, derr := r.m.Decide(ctx)
	if derr != nil {
		r.o.log().Error("ask the failover machine", "err", derr)
		h.stopped = true
		return false
	}
	h.last = d
	if d.Sync != h.conn {
		r.note(ctx, d)
		h.stopped = true
		return false
	}
	return true
}

// probePrimary runs the connectivity check on the primary's source, records
// it, and returns it with ok when the server answers.
func (r *run) probePrimary(ctx context.Context) ([]health.Result, bool) {
	src := r.o.Project.Connections[r.pair.Primary].Source
	hs := r.o.Project.Settings.Health
	c := r.o.checker()
	open := func(ctx context.Context) (*sql.DB, error) {
		if c.OpenSource != nil {
			return c.OpenSource(ctx, src)
		}
		sync := r.o.Project.Settings.Sync
		sync.ConnectTimeout, sync.ReadTimeout = hs.ConnectTimeout, hs.QueryTimeout
		return connect.Source(ctx, src, sync, 1)
	}
	res, db := health.Connectivity(ctx, src.ResourceName, hs.ConnectTimeout, open, r.o.now().UTC())
	if db != nil {
		db.Close()
	}
	if res.Err != nil {
		res.Class = failure.Classify(res.Err)
	}
	if err := c.Record(ctx, []health.Result{res}); err != nil {
		r.o.log().Warn("record the probe", "err", err)
	}
	r.o.log().Info("probed the primary after a lost connection", "source", src.ResourceName, "status", res.Status, "class", res.Class)
	return []health.Result{res}, res.Status == failure.OK
}
