package failover

import (
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// stepper applies one step of the rules to a pair's state.
type stepper struct {
	m   *Machine
	st  *state.FailoverState
	now time.Time
	trs []state.FailoverTransition
	dec Decision
}

func (s *stepper) pol() Policy { return s.m.policy }

func (s *stepper) alert(kind AlertKind, sev failure.Severity, class failure.Class, summary string) {
	s.dec.Alerts = append(s.dec.Alerts, Alert{Key: s.m.pair.Primary + ":" + string(kind), Kind: kind, Severity: sev, Class: class, Summary: summary})
}

func (s *stepper) transition(to State, who, reason string, class failure.Class) {
	from := s.st.State
	s.st.State, s.st.Since, s.st.Reason, s.st.Who = string(to), s.now, reason, who
	tr := state.FailoverTransition{Pair: s.m.pair.Primary, From: from, To: string(to), Who: who, Reason: reason,
		Class: string(class), At: s.now}
	s.trs = append(s.trs, tr)
	s.dec.Transition = &tr
}

// observeBackup updates what is known about the backup. The replication
// verdict changes only when it can be measured: a replica whose IO thread
// is reconnecting to a primary that is down for us too keeps the verdict
// it had while the primary was up (its data is as fresh as the primary's
// last shipped event, or as stale as it was measured then); a replica that
// cannot reach a primary we can reach is stale.
func (s *stepper) observeBackup(conn, repl *Probe, primaryDown bool) {
	st := s.st
	if conn != nil {
		st.BackupUnreachable = ""
		if conn.critical() {
			st.BackupUnreachable = conn.Message
		}
	}
	if repl == nil || st.BackupUnreachable != "" {
		return
	}
	r := repl.Replica
	switch {
	case r != nil && r.Running && !repl.critical():
		yes := true
		st.BackupReplicating, st.BackupLagSeconds, st.BackupProblem = &yes, r.SecondsBehind, ""
	case r != nil && r.Connecting && primaryDown:
		return // lag unknowable now; keep the verdict measured while the primary was up (or none)
	default:
		no := false
		st.BackupReplicating, st.BackupLagSeconds = &no, nil
		if r != nil {
			st.BackupLagSeconds = r.SecondsBehind
		}
		st.BackupProblem = fmt.Sprintf("replication_lag %s: %s", repl.Status, repl.Message)
	}
	t := s.now
	st.BackupCheckedAt = &t
}

// backupEligible says whether the backup may be synced, and why not.
func (s *stepper) backupEligible() (bool, string) {
	st := s.st
	switch {
	case st.BackupUnreachable != "":
		return false, "backup unreachable: " + st.BackupUnreachable
	case st.BackupReplicating == nil:
		return false, "the backup's replication was never measured while the primary was up, so its staleness is unknown " +
			"(`acode failover --reason ...` uses it anyway)"
	case !*st.BackupReplicating:
		return false, st.BackupProblem
	}
	return true, ""
}

func (s *stepper) resetFailures() {
	st := s.st
	st.Failures, st.Retries, st.RetryAt, st.FirstFailureAt, st.LastClass, st.LastError = 0, 0, nil, nil, "", ""
}

// primaryFailure records a failure of the primary and applies its class's
// strategy; evaluate then switches to the backup when the strategy wants
// it and the backup is eligible.
func (s *stepper) primaryFailure(c failure.Class, msg string) {
	st, pol := s.st, s.pol()
	strategy := pol.strategy(c)
	switch State(st.State) {
	case Halted:
		return
	case BackupActive:
		st.HealthyStreak = 0
		st.LastClass, st.LastError = string(c), msg
		return
	}
	if strategy == RetryPrimary && st.RetryAt != nil && s.now.Before(*st.RetryAt) {
		st.LastClass, st.LastError = string(c), msg
		return // the same outage, inside the backoff wait: not a retry
	}
	st.Failures++
	if st.FirstFailureAt == nil {
		t := s.now
		st.FirstFailureAt = &t
	}
	st.LastClass, st.LastError = string(c), msg
	if !pol.Automatic {
		s.alert(AlertPrimaryFailing, failure.Critical, c, fmt.Sprintf("primary %s failing (%s): %s; automatic failover is off: "+
			"`acode failover --reason ...` switches to the backup", s.m.pair.Primary, c, msg))
		return
	}
	switch strategy {
	case Manual:
		if c == failure.ClassSchemaChange || st.Failures >= pol.ConsecutiveFailures {
			s.transition(Halted, "auto", fmt.Sprintf("%s on the primary: %s; nothing is synced until a person runs "+
				"`acode failback` (primary) or `acode failover` (backup)", c, msg), c)
			s.alert(AlertHalted, failure.Critical, c, fmt.Sprintf("%s halted: %s", s.m.pair.Primary, st.Reason))
		}
	case Restore:
		s.dec.Restore = true
		s.trs = append(s.trs, state.FailoverTransition{Pair: s.m.pair.Primary, From: st.State, To: st.State, Who: "auto",
			Reason: "restore from the backup due: " + msg, Class: string(c), At: s.now})
		s.alert(AlertRestore, failure.Critical, c, fmt.Sprintf("%s: %s; quarantine the partition and sync it from %s",
			c, msg, s.m.pair.Backup))
		s.resetFailures() // the primary itself answers: not an outage
	case RetryPrimary:
		if st.Failures >= pol.failuresBeforeBackup() {
			st.RetryAt = nil
			return
		}
		var wait time.Duration
		if n := len(pol.Backoff); n > 0 {
			wait = pol.Backoff[min(st.Failures-1, n-1)]
		}
		wait += s.m.jitter(pol.Jitter)
		at := s.now.Add(wait)
		st.Retries, st.RetryAt = st.Failures, &at
		s.alert(AlertPrimaryRetry, failure.Warning, c, fmt.Sprintf("primary %s failing (%s): %s; retry %d of %d at %s",
			s.m.pair.Primary, c, msg, st.Failures, pol.failuresBeforeBackup()-1, at.Format(time.RFC3339)))
	}
}

// wantsBackup reports whether the primary's failures call for the backup.
func (s *stepper) wantsBackup() bool {
	st, pol := s.st, s.pol()
	if State(st.State) != PrimaryActive || !pol.Automatic || st.Failures == 0 {
		return false
	}
	switch pol.strategy(failure.Class(st.LastClass)) {
	case UseBackup:
		return true
	case RetryPrimary:
		return st.Failures >= pol.failuresBeforeBackup()
	}
	return false
}

// primarySuccess records a healthy check or a succeeded sync of the
// primary: it ends a failure streak, and counts toward failback.
func (s *stepper) primarySuccess() {
	st, pol := s.st, s.pol()
	switch State(st.State) {
	case PrimaryActive:
		if st.Failures > 0 {
			s.alert(AlertPrimaryRecovered, failure.Info, "", fmt.Sprintf("primary %s answers again after %d failure(s) (%s)",
				s.m.pair.Primary, st.Failures, st.LastClass))
		}
		s.resetFailures()
	case BackupActive:
		s.resetFailures()
		st.HealthyStreak++
		if pol.Automatic && !st.Manual && st.HealthyStreak >= pol.FailbackAfter {
			s.switchToPrimary("auto", fmt.Sprintf("primary healthy for %d consecutive checks", st.HealthyStreak))
		}
	}
}

func (s *stepper) switchToBackup(who, reason string, class failure.Class, manual bool) {
	st := s.st
	s.transition(BackupActive, who, reason, class)
	st.Manual, st.HealthyStreak = manual, 0
	sev := failure.Critical
	if manual {
		sev = failure.Warning
	}
	s.alert(AlertFailover, sev, class, fmt.Sprintf("%s failed over to %s (%s): %s", s.m.pair.Primary, s.m.pair.Backup, who, reason))
}

func (s *stepper) switchToPrimary(who, reason string) {
	st := s.st
	if State(st.State) == BackupActive {
		from, to := st.Since, s.now
		if st.ReconcileFrom != nil && st.ReconcileFrom.Before(from) {
			from = *st.ReconcileFrom // an earlier window not reconciled yet
		}
		st.ReconcileFrom, st.ReconcileTo = &from, &to
	}
	s.transition(PrimaryActive, who, reason, "")
	s.resetFailures()
	st.Manual, st.HealthyStreak = false, 0
	s.alert(AlertFailback, failure.Info, "", fmt.Sprintf("%s back on the primary (%s): %s", s.m.pair.Primary, who, reason))
}

// evaluate turns the state into a decision, failing over first when the
// primary's failures call for the backup and the backup is eligible.
func (s *stepper) evaluate() {
	st, pair := s.st, s.m.pair
	if s.wantsBackup() {
		if ok, why := s.backupEligible(); ok {
			s.switchToBackup("auto", fmt.Sprintf("%s on the primary after %d failure(s): %s", st.LastClass, st.Failures, st.LastError),
				failure.Class(st.LastClass), false)
		} else {
			s.decide("", "", fmt.Sprintf("both unavailable: primary %s (%s: %s); backup %s: %s",
				pair.Primary, st.LastClass, st.LastError, pair.Backup, why))
			s.alert(AlertBothUnavailable, failure.Critical, failure.Class(st.LastClass), s.dec.Reason)
			return
		}
	}
	switch State(st.State) {
	case PrimaryActive:
		if st.RetryAt != nil && s.now.Before(*st.RetryAt) {
			at := *st.RetryAt
			s.decide("", "", fmt.Sprintf("primary failing (%s: %s); next retry at %s", st.LastClass, st.LastError, at.Format(time.RFC3339)))
			s.dec.RetryAt = &at
			return
		}
		s.decide(pair.Primary, "primary", st.Reason)
	case BackupActive:
		ok, why := s.backupEligible()
		switch {
		case ok:
			s.decide(pair.Backup, "backup", st.Reason)
		case st.Manual:
			s.decide(pair.Backup, "backup", st.Reason)
			s.alert(AlertBackupForced, failure.Warning, "", fmt.Sprintf("%s used by hand although %s", pair.Backup, why))
		default:
			s.decide("", "", fmt.Sprintf("both unavailable: backup %s: %s; primary %s not healthy for %d checks yet (%d so far)",
				pair.Backup, why, pair.Primary, s.pol().FailbackAfter, st.HealthyStreak))
			s.alert(AlertBothUnavailable, failure.Critical, "", s.dec.Reason)
		}
	default:
		s.decide("", "", st.Reason)
	}
}

func (s *stepper) decide(sync, role, reason string) {
	st := s.st
	s.dec.Pair, s.dec.State, s.dec.Since = s.m.pair.Primary, State(st.State), st.Since
	s.dec.Sync, s.dec.Role, s.dec.Reason = sync, role, reason
	s.dec.ReconcileDays = days(st.ReconcileFrom, st.ReconcileTo)
}

// days lists the UTC dates from from to to, inclusive.
func days(from, to *time.Time) []string {
	if from == nil || to == nil {
		return nil
	}
	var out []string
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to.UTC()); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}
