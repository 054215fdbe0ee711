package pairsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/promote"
	"github.com/acode-dev/acode/internal/reconcile"
	"github.com/acode-dev/acode/internal/syncer"
)

// promoteJob copies every stream a backup job committed into the primary's
// layout.
func (r *run) promoteJob(ctx context.Context, res *syncer.Result) error {
	p := &promote.Promoter{State: r.o.State, Log: r.o.log(), Fence: func(ctx context.Context) error {
		return r.o.State.CheckRun(ctx, r.opts.Lease) // a replica that lost the run publishes nothing
	}}
	backup, primary := r.o.Project.Connections[r.pair.Backup], r.o.Project.Connections[r.pair.Primary]
	var errs []error
	for _, s := range res.Streams {
		if s.Status != "committed" || s.Manifest == "" {
			continue
		}
		if err := r.o.State.CheckRun(ctx, r.opts.Lease); err != nil {
			return fmt.Errorf("promote backup job %d: %w", res.JobID, err) // another replica promotes it now
		}
		pr, err := p.Partition(ctx, backup, primary, s.Manifest)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.rep.Promotions = append(r.rep.Promotions, pr)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("backup job %d committed, but promoting it failed: %w", res.JobID, err)
	}
	return nil
}

// reconcile runs the reconcile of the days the backup covered, then clears
// the machine's pending window.
func (r *run) reconcile(ctx context.Context, days []string) error {
	var err error
	if r.o.Reconcile != nil {
		err = r.o.Reconcile(ctx, r.pair, days)
	} else {
		err = r.defaultReconcile(ctx, days)
	}
	if err != nil {
		return fmt.Errorf("reconcile %v after the failback: %w", days, err)
	}
	d, err := r.m.ReconcileDone(ctx)
	if err != nil {
		return err
	}
	r.note(ctx, d)
	r.rep.Reconciled = days
	r.o.log().Info("reconciled the days the backup covered", "pair", r.pair.Primary, "days", days)
	return nil
}

// defaultReconcile is `acode reconcile` over the days: where the primary's
// partition of a day is missing, damaged or quarantined and the backup's is
// intact, the backup's snapshot is promoted.
func (r *run) defaultReconcile(ctx context.Context, days []string) error {
	var ts []time.Time
	for _, d := range days {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return fmt.Errorf("reconcile day %q: %w", d, err)
		}
		ts = append(ts, t)
	}
	rec := &reconcile.Reconciler{Project: r.o.Project, State: r.o.State, Log: r.o.log()}
	actions, err := rec.Days(ctx, r.o.Project.Connections[r.pair.Primary], r.o.Project.Connections[r.pair.Backup], ts)
	r.rep.Reconcile = append(r.rep.Reconcile, actions...)
	return err
}
