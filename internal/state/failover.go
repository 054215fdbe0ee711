package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FailoverState is the persisted state machine of one primary/backup pair
// (package failover owns its rules; the store only keeps it). It is read and
// written whole, inside one transaction, so the serve loop and a person
// running `acode failover` never overwrite each other's step, and a
// restarted process resumes exactly where the previous one stopped.
type FailoverState struct {
	Pair   string // the primary connection's name
	State  string // primary_active, backup_active or halted
	Since  time.Time
	Reason string // why the pair is in State
	Who    string // "auto" or "cli:<user>"
	Manual bool   // State was set by a person: no automatic failback

	Failures       int    // consecutive failures of the primary
	LastClass      string // failure class of the newest one
	LastError      string
	FirstFailureAt *time.Time
	Retries        int        // backoff retries of the primary used up
	RetryAt        *time.Time // the primary is not tried again before this
	HealthyStreak  int        // consecutive healthy checks of the primary while the backup is active

	// The backup's replication as last measured while it could be: whether
	// both threads ran with lag under the critical threshold, the lag, when,
	// and what was wrong otherwise.
	BackupReplicating *bool
	BackupLagSeconds  *int64
	BackupCheckedAt   *time.Time
	BackupProblem     string
	// BackupUnreachable says why the backup's last connectivity check
	// failed; empty when it answered.
	BackupUnreachable string

	// ReconcileFrom/To bound the time the backup was active; set on
	// failback, they say which days a reconcile must cover.
	ReconcileFrom *time.Time
	ReconcileTo   *time.Time

	// ObservedJob and ObservedAttempt name the newest job attempt whose
	// outcome the machine took in (0: none), so the outcome of a job whose
	// replica died before feeding it is fed once by the one continuing
	// the run, never twice.
	ObservedJob     int64
	ObservedAttempt int

	UpdatedAt time.Time
}

// FailoverTransition is one change of a pair's state, with who and why.
type FailoverTransition struct {
	ID     int64
	Pair   string
	From   string
	To     string
	Who    string
	Reason string
	Class  string
	At     time.Time
}

const selectFailover = `SELECT pair, state, since, reason, who, manual, failures, last_class, last_error,
	first_failure_at, retries, retry_at, healthy_streak, backup_replicating, backup_lag_seconds, backup_checked_at,
	backup_problem, backup_unreachable, reconcile_from, reconcile_to, observed_job, observed_attempt, updated_at FROM failover_state`

func scanFailover(r rowScanner) (FailoverState, error) {
	var (
		st                          FailoverState
		since, updated              string
		manual                      int
		firstFail, retryAt, checked sql.NullString
		recFrom, recTo              sql.NullString
		replicating                 sql.NullBool
		lag                         sql.NullInt64
	)
	err := r.Scan(&st.Pair, &st.State, &since, &st.Reason, &st.Who, &manual, &st.Failures, &st.LastClass, &st.LastError,
		&firstFail, &st.Retries, &retryAt, &st.HealthyStreak, &replicating, &lag, &checked,
		&st.BackupProblem, &st.BackupUnreachable, &recFrom, &recTo, &st.ObservedJob, &st.ObservedAttempt, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return FailoverState{}, ErrNotFound
	}
	if err != nil {
		return FailoverState{}, err
	}
	st.Manual = manual != 0
	if replicating.Valid {
		st.BackupReplicating = &replicating.Bool
	}
	if lag.Valid {
		st.BackupLagSeconds = &lag.Int64
	}
	if st.Since, err = parseTime(since); err != nil {
		return FailoverState{}, err
	}
	if st.UpdatedAt, err = parseTime(updated); err != nil {
		return FailoverState{}, err
	}
	for _, f := range []struct {
		src sql.NullString
		dst **time.Time
	}{{firstFail, &st.FirstFailureAt}, {retryAt, &st.RetryAt}, {checked, &st.BackupCheckedAt},
		{recFrom, &st.ReconcileFrom}, {recTo, &st.ReconcileTo}} {
		if *f.dst, err = parseOptTime(f.src); err != nil {
			return FailoverState{}, err
		}
	}
	return st, nil
}

// FailoverState returns the pair's state, or ErrNotFound before the pair's
// first step.
func (s *Store) FailoverState(ctx context.Context, pair string) (FailoverState, error) {
	st, err := scanFailover(s.db.QueryRowContext(ctx, selectFailover+` WHERE pair = ?`, pair))
	if err != nil {
		return FailoverState{}, fmt.Errorf("failover state of %s: %w", pair, err)
	}
	return st, nil
}

// UpdateFailover runs one step of the pair's state machine atomically: it
// reads the state (initial, with Pair, Since and UpdatedAt filled, when the
// pair has none yet), lets step change it, writes it back and appends the
// transitions step returns, stamped with the store's clock when their At is
// zero. An error from step leaves everything as it was.
func (s *Store) UpdateFailover(ctx context.Context, pair string, initial FailoverState,
	step func(*FailoverState) ([]FailoverTransition, error)) (FailoverState, error) {
	return s.UpdateFailoverFor(ctx, RunLease{}, pair, initial, step)
}

// UpdateFailoverFor is UpdateFailover for a step of the run l grants: in
// the same transaction it checks the grant, so a replica that lost the run
// (ErrLostRun) changes nothing of the pair's state.
func (s *Store) UpdateFailoverFor(ctx context.Context, l RunLease, pair string, initial FailoverState,
	step func(*FailoverState) ([]FailoverTransition, error)) (FailoverState, error) {
	var out FailoverState
	err := inTx(ctx, s.db, func(tx *txn) error {
		if err := checkRun(ctx, tx, l); err != nil {
			return err
		}
		now := s.clock()
		st, err := scanFailover(tx.QueryRowContext(ctx, selectFailover+` WHERE pair = ?`, pair))
		if errors.Is(err, ErrNotFound) {
			st = initial
			st.Pair, st.Since = pair, now
		} else if err != nil {
			return err
		}
		trs, err := step(&st)
		if err != nil {
			return err
		}
		st.Pair, st.UpdatedAt = pair, now
		if err := writeFailover(ctx, tx, st); err != nil {
			return err
		}
		for _, tr := range trs {
			at := tr.At
			if at.IsZero() {
				at = now
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO failover_transitions (pair, from_state, to_state, who, reason, class, at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, pair, tr.From, tr.To, tr.Who, tr.Reason, tr.Class, formatTime(at)); err != nil {
				return fmt.Errorf("record transition: %w", err)
			}
		}
		out = st
		return nil
	})
	if err != nil {
		return FailoverState{}, fmt.Errorf("update failover state of %s: %w", pair, err)
	}
	return out, nil
}

func writeFailover(ctx context.Context, tx *txn, st FailoverState) error {
	var replicating any
	if st.BackupReplicating != nil {
		replicating = boolInt(*st.BackupReplicating)
	}
	var lag any
	if st.BackupLagSeconds != nil {
		lag = *st.BackupLagSeconds
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO failover_state (pair, state, since, reason, who, manual, failures,
		last_class, last_error, first_failure_at, retries, retry_at, healthy_streak, backup_replicating,
		backup_lag_seconds, backup_checked_at, backup_problem, backup_unreachable, reconcile_from, reconcile_to, observed_job, observed_attempt, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (pair) DO UPDATE SET state = excluded.state, since = excluded.since, reason = excluded.reason,
			who = excluded.who, manual = excluded.manual, failures = excluded.failures, last_class = excluded.last_class,
			last_error = excluded.last_error, first_failure_at = excluded.first_failure_at, retries = excluded.retries,
			retry_at = excluded.retry_at, healthy_streak = excluded.healthy_streak,
			backup_replicating = excluded.backup_replicating, backup_lag_seconds = excluded.backup_lag_seconds,
			backup_checked_at = excluded.backup_checked_at, backup_problem = excluded.backup_problem,
			backup_unreachable = excluded.backup_unreachable,
			reconcile_from = excluded.reconcile_from, reconcile_to = excluded.reconcile_to,
			observed_job = excluded.observed_job, observed_attempt = excluded.observed_attempt, updated_at = excluded.updated_at`,
		st.Pair, st.State, formatTime(st.Since), st.Reason, st.Who, boolInt(st.Manual), st.Failures, st.LastClass, st.LastError,
		formatOptTime(st.FirstFailureAt), st.Retries, formatOptTime(st.RetryAt), st.HealthyStreak, replicating, lag,
		formatOptTime(st.BackupCheckedAt), st.BackupProblem, st.BackupUnreachable, formatOptTime(st.ReconcileFrom), formatOptTime(st.ReconcileTo),
		st.ObservedJob, st.ObservedAttempt, formatTime(st.UpdatedAt))
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// FailoverTransitions returns up to limit of the pair's transitions, newest
// first.
func (s *Store) FailoverTransitions(ctx context.Context, pair string, limit int) ([]FailoverTransition, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, pair, from_state, to_state, who, reason, class, at
		FROM failover_transitions WHERE pair = ? ORDER BY id DESC LIMIT ?`, pair, limit)
	if err != nil {
		return nil, fmt.Errorf("failover transitions of %s: %w", pair, err)
	}
	defer rows.Close()
	var out []FailoverTransition
	for rows.Next() {
		var (
			tr FailoverTransition
			at string
		)
		if err := rows.Scan(&tr.ID, &tr.Pair, &tr.From, &tr.To, &tr.Who, &tr.Reason, &tr.Class, &at); err != nil {
			return nil, fmt.Errorf("failover transitions of %s: %w", pair, err)
		}
		if tr.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failover transitions of %s: %w", pair, err)
	}
	return out, nil
}
