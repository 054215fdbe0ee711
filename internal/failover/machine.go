package failover

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// Machine is the failover state machine of one pair. It keeps nothing in
// memory: every call reads the pair's state from the store, applies one
// step and writes it back in the same transaction, so the serve loop, a
// one-shot `acode sync --source auto` and a person's `acode failover` can
// run in different processes, and a restarted process resumes exactly.
type Machine struct {
	store  *state.Store
	pair   Pair
	policy Policy
	now    func() time.Time
	jitter func(max time.Duration) time.Duration
	lease  state.RunLease // the run whose steps these are (ForRun); zero: none
}

// ForRun returns the machine whose steps belong to the run l grants: each
// checks the grant in its own transaction, so a replica that lost the run
// (state.ErrLostRun) changes nothing of the pair's state.
func (m *Machine) ForRun(l state.RunLease) *Machine {
	c := *m
	c.lease = l
	return &c
}

// Option tunes a Machine.
type Option func(*Machine)

// WithClock replaces time.Now, so tests walk through backoff waits without
// sleeping.
func WithClock(now func() time.Time) Option { return func(m *Machine) { m.now = now } }

// WithJitter replaces the random jitter (uniform in [0, max]).
func WithJitter(j func(max time.Duration) time.Duration) Option {
	return func(m *Machine) { m.jitter = j }
}

// New returns the machine of pair, whose state lives in store.
func New(store *state.Store, pair Pair, policy Policy, opts ...Option) *Machine {
	m := &Machine{store: store, pair: pair, policy: policy, now: time.Now, jitter: randomJitter}
	for _, o := range opts {
		o(m)
	}
	return m
}

func randomJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}

// Alert is something a person should hear about. Key identifies the
// condition (pair and kind) so that a sink can send a repeated one once.
type Alert struct {
	Key      string           `json:"key"` // <pair>:<kind>, the same for every step that raises it
	Kind     AlertKind        `json:"kind"`
	Severity failure.Severity `json:"severity"`
	Summary  string           `json:"summary"`
	Class    failure.Class    `json:"class,omitempty"`
}

// Decision is what the pair should do now, and why.
type Decision struct {
	Pair    string     `json:"pair"`
	State   State      `json:"state"`
	Since   time.Time  `json:"since"`
	Sync    string     `json:"sync,omitempty"` // the connection to sync now; empty: none
	Role    string     `json:"role,omitempty"` // primary or backup, for Sync
	Reason  string     `json:"reason"`
	RetryAt *time.Time `json:"retry_at,omitempty"` // no sync before this (primary backoff)
	// Transition is set when this step changed the state.
	Transition *state.FailoverTransition `json:"transition,omitempty"`
	Alerts     []Alert                   `json:"alerts,omitempty"`
	// ReconcileDays are the UTC days the backup covered, due for a
	// reconcile since a failback (until ReconcileDone).
	ReconcileDays []string `json:"reconcile_days,omitempty"`
	// Restore asks for the failed partition to be quarantined and synced
	// again from the backup (data_corruption).
	Restore bool `json:"restore,omitempty"`
}

// Decide returns the current decision without new evidence. It may still
// change the state: a failover that waited for the backup to become
// eligible happens here.
func (m *Machine) Decide(ctx context.Context) (Decision, error) {
	return m.step(ctx, func(*stepper) {})
}

// DecideAfterJob is Decide after attempt of job ended in a way that says
// nothing of the source (cut at the maximum duration), recording that the
// machine took that outcome in (Observed), as ObserveJobAttempt does.
func (m *Machine) DecideAfterJob(ctx context.Context, job int64, attempt int) (Decision, error) {
	return m.step(ctx, func(s *stepper) { s.st.ObservedJob, s.st.ObservedAttempt = job, attempt })
}

// Current returns the decision the pair's persisted state calls for now,
// changing nothing: what a sync started now would read. Status pages and
// metrics show it, because the state alone can say primary_active while
// both sources are unavailable and nothing syncs (Sync is then empty).
// Unlike Decide it never switches: a failover due now shows as the
// backup to sync, and happens at the next step.
func (m *Machine) Current(ctx context.Context) (Decision, error) {
	st, err := m.load(ctx)
	if err != nil {
		return Decision{}, fmt.Errorf("failover %s: %w", m.pair.Primary, err)
	}
	s := &stepper{m: m, st: &st, now: m.clock()}
	s.evaluate()
	s.dec.Transition = nil
	return s.dec, nil
}

// ObserveHealth feeds one round of health checks: the connectivity of
// both sources and the backup's replication. Nothing else counts: stale
// data on the primary is not fixed by its replica.
func (m *Machine) ObserveHealth(ctx context.Context, h Health) (Decision, error) {
	return m.step(ctx, func(s *stepper) {
		primaryDown := h.Primary.critical()
		s.observeBackup(h.Backup, h.Replication, primaryDown)
		switch {
		case h.Primary == nil:
		case primaryDown:
			class := h.Primary.Class
			if class == failure.ClassNone {
				class = failure.ClassUnknown
			}
			s.primaryFailure(class, h.Primary.Message)
		default:
			s.primarySuccess()
		}
	})
}

// ObserveJob feeds the outcome of a sync job of either connection of the
// pair (err nil: succeeded). A cancelled job says nothing about the source.
// A failure of the primary counts only when it happened on the source side
// (failure.OnSource: a *failure.SourceError, or a schema or data
// problem): a destination failure would follow the job to the backup.
func (m *Machine) ObserveJob(ctx context.Context, connection string, err error) (Decision, error) {
	return m.ObserveJobAttempt(ctx, connection, 0, 0, err)
}

// ObserveJobAttempt is ObserveJob for attempt of job (0: unknown),
// recording in the same step that the machine took this outcome in
// (Observed).
func (m *Machine) ObserveJobAttempt(ctx context.Context, connection string, job int64, attempt int, err error) (Decision, error) {
	if connection != m.pair.Primary && connection != m.pair.Backup {
		return Decision{}, fmt.Errorf("observe job: connection %q is not in pair %s/%s", connection, m.pair.Primary, m.pair.Backup)
	}
	cancelled := errors.Is(err, context.Canceled) || errors.Is(err, failure.ErrCancelled)
	class := failure.Classify(err)
	sourceSide := failure.OnSource(err)
	return m.step(ctx, func(s *stepper) {
		if job != 0 {
			s.st.ObservedJob, s.st.ObservedAttempt = job, attempt
		}
		switch {
		case cancelled:
		case connection == m.pair.Backup && err != nil && sourceSide:
			s.alert(AlertBackupSyncFailed, failure.Critical, class,
				fmt.Sprintf("sync of the backup %s failed (%s): %v", m.pair.Backup, class, err))
		case connection == m.pair.Backup:
		case err == nil:
			s.primarySuccess()
		case sourceSide:
			s.primaryFailure(class, err.Error())
		default:
			s.alert(AlertSyncFailedOutsideSource, failure.Warning, class,
				fmt.Sprintf("sync of %s failed outside the source, failover state unchanged: %v", connection, err))
		}
	})
}

// Failover switches the pair to the backup by hand. who is recorded, e.g.
// "cli:maria". The backup is then used even when its lag is unknown or
// high (with a warning in each decision): a person decided; and only
// Failback brings the pair back.
func (m *Machine) Failover(ctx context.Context, who, reason string) (Decision, error) {
	if reason == "" {
		reason = "manual failover"
	}
	return m.step(ctx, func(s *stepper) {
		if State(s.st.State) != BackupActive {
			s.switchToBackup(who, reason, "", true)
		}
		s.st.Manual = true
	})
}

// Failback switches the pair to the primary by hand, from the backup or
// from halted, and records the reconcile the backup's days need.
func (m *Machine) Failback(ctx context.Context, who, reason string) (Decision, error) {
	if reason == "" {
		reason = "manual failback"
	}
	return m.step(ctx, func(s *stepper) {
		if State(s.st.State) != PrimaryActive {
			s.switchToPrimary(who, reason)
		}
	})
}

// ReconcileDone clears the pending reconcile window once the reconcile of
// its days has run.
func (m *Machine) ReconcileDone(ctx context.Context) (Decision, error) {
	return m.step(ctx, func(s *stepper) { s.st.ReconcileFrom, s.st.ReconcileTo = nil, nil })
}

// State returns the pair's persisted state (the initial one before any
// step) and its newest transitions, for `acode status`.
func (m *Machine) State(ctx context.Context, transitions int) (state.FailoverState, []state.FailoverTransition, error) {
	st, err := m.load(ctx)
	if err != nil {
		return state.FailoverState{}, nil, err
	}
	trs, err := m.store.FailoverTransitions(ctx, m.pair.Primary, transitions)
	if err != nil {
		return state.FailoverState{}, nil, err
	}
	return st, trs, nil
}

// Observed reports whether the machine has taken in the outcome of
// attempt of job (ObserveJobAttempt).
func (m *Machine) Observed(ctx context.Context, job int64, attempt int) (bool, error) {
	st, err := m.load(ctx)
	if err != nil {
		return false, fmt.Errorf("failover %s: %w", m.pair.Primary, err)
	}
	return st.ObservedJob == job && st.ObservedAttempt == attempt, nil
}

// load reads the pair's persisted state, the initial one before any step.
func (m *Machine) load(ctx context.Context) (state.FailoverState, error) {
	st, err := m.store.FailoverState(ctx, m.pair.Primary)
	if errors.Is(err, state.ErrNotFound) {
		st = m.initial(m.clock())
		st.Pair = m.pair.Primary
		return st, nil
	}
	return st, err
}

func (m *Machine) clock() time.Time { return m.now().UTC().Truncate(time.Microsecond) }

func (m *Machine) initial(now time.Time) state.FailoverState {
	return state.FailoverState{State: string(PrimaryActive), Since: now, Who: "auto", Reason: "initial state"}
}

// step runs fn and the evaluation in one store transaction.
func (m *Machine) step(ctx context.Context, fn func(*stepper)) (Decision, error) {
	now := m.clock()
	var dec Decision
	_, err := m.store.UpdateFailoverFor(ctx, m.lease, m.pair.Primary, m.initial(now), func(st *state.FailoverState) ([]state.FailoverTransition, error) {
		s := &stepper{m: m, st: st, now: now}
		fn(s)
		s.evaluate()
		dec = s.dec
		return s.trs, nil
	})
	if err != nil {
		return Decision{}, fmt.Errorf("failover %s: %w", m.pair.Primary, err)
	}
	return dec, nil
}
