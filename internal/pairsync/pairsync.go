// Package pairsync runs the sync job of a failover pair the way its state
// machine says: it asks the machine which side to read, runs that side's
// job through package syncer, feeds the outcome back, retries per the
// connection's job policy, fails over inside the job when the primary dies
// under it, promotes what the backup wrote into the primary's layout, and
// runs the reconcile a failback asks for. It also runs the health rounds
// that feed the state machines (`acode serve`'s health loop).
//
// It is the middle of the three layers that run a job: syncer runs one job
// against one source, pairsync decides which source and what happens after,
// and jobs runs either in the background for `acode serve`. `acode sync`
// of a pair's connection, the jobs `acode serve` runs for a pair and the
// demo's failure drill all go through it.
package pairsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/promote"
	"github.com/acode-dev/acode/internal/reconcile"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// Sources `acode sync --source` accepts.
const (
	SourceAuto    = "auto"    // what the pair's state machine says
	SourcePrimary = "primary" // the pair's primary connection, whatever the state
	SourceBackup  = "backup"  // the pair's backup connection, whatever the state
)

// Orchestrator runs the syncs of one project's failover pairs. The zero
// values of the optional fields are the production ones.
type Orchestrator struct {
	Project *config.Project
	State   *state.Store
	Log     *slog.Logger
	// SharedRanges is the syncer's (serve on a PostgreSQL state): the
	// ranges of every job it runs are read by the range workers of every
	// replica.
	SharedRanges bool

	// Checker runs health rounds and the probe of a primary that dropped a
	// sync's connection; one on Project and State when nil.
	Checker *health.Checker
	// Machine options (clock, jitter) for every pair's state machine.
	MachineOptions []failover.Option
	// Now is the clock of job retries; time.Now when nil.
	Now func() time.Time
	// Sleep waits before a job retry; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Reconcile runs after a failback for the days the backup covered.
	// When nil, `acode reconcile`'s repair runs over them
	// (reconcile.Reconciler.Days): a primary day missing, damaged or
	// quarantined gets the backup's intact snapshot promoted.
	Reconcile func(ctx context.Context, pair failover.Pair, days []string) error
	// OnDecision, when set, receives every decision a step of a pair's
	// machine returned (transitions and alerts for the alert sinks).
	OnDecision func(ctx context.Context, d failover.Decision)
	// OnHealth, when set, receives every health round's results (alert
	// conditions per check).
	OnHealth func(ctx context.Context, results []health.Result)
	// OnJobEnd, when set, receives the results of a RunJob's jobs before
	// its last (the primary's job that failed over); the last one goes to
	// RunJob's caller (metrics, alerts).
	OnJobEnd func(res *syncer.Result, err error)
}

// Options tune one Run.
type Options struct {
	// Source is SourceAuto (default), SourcePrimary or SourceBackup.
	Source string
	// HealthFirst runs one health round and feeds it to the machine before
	// deciding, as `acode sync --source auto` does when no serve loop runs.
	HealthFirst bool
	// Progress receives the live counters of every job of the run.
	Progress *syncer.Progress
	// OnJobCreated is called with the run's first job as soon as it exists
	// (a server hands its id to Airflow); later jobs of the run (the
	// in-job failover) continue it. It returns the grant of the run it
	// recorded for the job, if any (see syncer.Options.OnJobCreated).
	OnJobCreated func(state.Job) state.RunLease
	// Owner identifies this process in the job lock.
	Owner string
	// Lease is the grant of the run this is (a run taken over from a
	// replica that died): the run's state writes check it, so once another
	// replica claims the run this one records nothing (state.ErrLostRun).
	// Unset, the run carries the grant OnJobCreated returns, if any.
	Lease state.RunLease
}

// Report is what a Run did, in order.
type Report struct {
	Pair       string              `json:"pair"`
	Decisions  []failover.Decision `json:"decisions"`
	Jobs       []*syncer.Result    `json:"jobs"`
	Promotions []promote.Result    `json:"promotions,omitempty"`
	Reconciled []string            `json:"reconciled_days,omitempty"`
	// Reconcile is what the default reconcile found and did per day and
	// stream.
	Reconcile []reconcile.Action `json:"reconcile,omitempty"`
	// Restored lists the days a full_backup_restore restored from the
	// backup after data corruption on the primary.
	Restored []Restored `json:"restored,omitempty"`
	// FailoverAfter is the time from the first job's failure to the
	// backup job's commit, when the run failed over.
	FailoverAfter time.Duration `json:"failover_after_ns,omitempty"`
}

// Last is the last job's result, or nil when no job ran.
func (r *Report) Last() *syncer.Result {
	if len(r.Jobs) == 0 {
		return nil
	}
	return r.Jobs[len(r.Jobs)-1]
}

// Decision is the last decision of the run.
func (r *Report) Decision() failover.Decision {
	if len(r.Decisions) == 0 {
		return failover.Decision{}
	}
	return r.Decisions[len(r.Decisions)-1]
}

// NotSyncedError says the state machine allows no sync now: the pair is
// halted, waiting out a backoff, or both sides are unavailable.
type NotSyncedError struct{ Decision failover.Decision }

func (e *NotSyncedError) Error() string {
	msg := fmt.Sprintf("%s: nothing synced (%s): %s", e.Decision.Pair, e.Decision.State, e.Decision.Reason)
	if e.Decision.RetryAt != nil {
		msg += fmt.Sprintf("; the primary is retried at %s", e.Decision.RetryAt.Format(time.RFC3339))
	}
	return msg
}

// ErrNotInPair is returned for a connection that is in no failover pair.
var ErrNotInPair = errors.New("connection is in no failover pair")

// Pair returns the failover pair connection belongs to.
func (o *Orchestrator) Pair(connection string) (failover.Pair, error) {
	conn, err := o.Project.Connection(connection)
	if err != nil {
		return failover.Pair{}, err
	}
	pairs, err := failover.PairsFrom(o.Project)
	if err != nil {
		return failover.Pair{}, err
	}
	for _, p := range pairs {
		if p.Primary == conn.ResourceName || p.Backup == conn.ResourceName {
			return p, nil
		}
	}
	return failover.Pair{}, fmt.Errorf("%s: %w", conn.ResourceName, ErrNotInPair)
}

// Machine returns the state machine of pair.
func (o *Orchestrator) Machine(pair failover.Pair) *failover.Machine {
	return failover.New(o.State, pair, failover.PolicyFrom(o.Project.Settings.Failover), o.MachineOptions...)
}

// Run syncs the pair connection belongs to (either of its connections
// names it) from the side opts.Source says. The Report is filled even when
// the error is not nil.
func (o *Orchestrator) Run(ctx context.Context, connection string, opts Options) (*Report, error) {
	pair, err := o.Pair(connection)
	if err != nil {
		return nil, err
	}
	r := &run{o: o, pair: pair, m: o.Machine(pair).ForRun(opts.Lease), opts: opts, rep: &Report{Pair: pair.Primary}}
	if opts.HealthFirst {
		if err := o.healthRound(ctx, r); err != nil {
			return r.rep, err
		}
	}
	switch opts.Source {
	case "", SourceAuto:
		err = r.auto(ctx)
	case SourcePrimary:
		err = r.forced(ctx, pair.Primary, "primary")
	case SourceBackup:
		err = r.forced(ctx, pair.Backup, "backup")
	default:
		err = fmt.Errorf("source %q: want auto, primary or backup", opts.Source)
	}
	return r.rep, err
}

func (o *Orchestrator) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

func (o *Orchestrator) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Orchestrator) sleep(ctx context.Context, d time.Duration) error {
	if o.Sleep != nil {
		return o.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (o *Orchestrator) checker() *health.Checker {
	if o.Checker != nil {
		return o.Checker
	}
	return &health.Checker{Project: o.Project, State: o.State}
}

// healthRound runs one health round for every pair and keeps the run's
// pair's decision in its report.
func (o *Orchestrator) healthRound(ctx context.Context, r *run) error {
	round, err := o.HealthRound(ctx)
	for _, d := range round.Decisions {
		if d.Pair == r.pair.Primary {
			r.rep.Decisions = append(r.rep.Decisions, d)
		}
	}
	return err
}
