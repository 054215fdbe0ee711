package failover

import (
	"context"
	"fmt"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// BackupUsable says, from the persisted state (what the health rounds
// measured), whether the backup may be synced now, and why not. A
// full_backup_restore syncs the corrupt day from the backup only when it
// is.
func (m *Machine) BackupUsable(ctx context.Context) (bool, string, error) {
	st, err := m.load(ctx)
	if err != nil {
		return false, "", fmt.Errorf("failover %s: %w", m.pair.Primary, err)
	}
	s := &stepper{m: m, st: &st, now: m.clock()}
	ok, why := s.backupEligible()
	return ok, why, nil
}

// Restored records a full_backup_restore that ended well: the corrupt day
// of the primary now holds the backup's snapshot, validated. The warning
// says so (the data came from the replica), and the "restore due" alert
// clears since this decision no longer carries it.
func (m *Machine) Restored(ctx context.Context, summary string) (Decision, error) {
	return m.step(ctx, func(s *stepper) {
		s.trs = append(s.trs, state.FailoverTransition{Pair: m.pair.Primary, From: s.st.State, To: s.st.State, Who: "auto",
			Reason: "restored from the backup: " + summary, Class: string(failure.ClassDataCorruption), At: s.now})
		s.alert("restored", failure.Warning, failure.ClassDataCorruption, summary)
	})
}

// RestoreFailed halts the pair when a full_backup_restore cannot be done
// (the backup is not usable, its sync or the promotion failed, or the
// restored day does not validate): nothing syncs until a person decides.
func (m *Machine) RestoreFailed(ctx context.Context, why string) (Decision, error) {
	return m.step(ctx, func(s *stepper) {
		if State(s.st.State) == Halted {
			return
		}
		s.transition(Halted, "auto", "data_corruption on the primary and no restore from the backup: "+why+
			"; nothing is synced until a person runs `acode failback` (primary) or `acode failover` (backup)", failure.ClassDataCorruption)
		s.alert("halted", failure.Critical, failure.ClassDataCorruption, fmt.Sprintf("%s halted: %s", m.pair.Primary, s.st.Reason))
	})
}
