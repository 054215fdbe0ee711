package alert

import (
	"context"
	"errors"
	"strings"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
)

// KindFailover is the kind of the conditions a pair's failover machine
// reports besides its state (primary retrying, backup forced, restore
// due...): failover/<pair>/<kind>.
const KindFailover = "failover"

// PairAlert is one alert of a failover decision, as package failover
// words it.
type PairAlert struct {
	Kind     failover.AlertKind
	Severity failure.Severity
	Summary  string
	Class    failure.Class // when one caused it
}

// PairDecision is what one step of a pair's failover machine concluded:
// its state, why, and the alerts it raised. Each decision is the whole
// picture: a condition of the pair absent from it clears.
type PairDecision struct {
	Pair   string
	State  string // StatePrimaryActive, StateBackupActive or StateHalted
	Reason string
	Alerts []PairAlert
}

// FailoverDecision turns a failover decision into conditions: the state
// into primary_unavailable / sources_unavailable (see FailoverChanged), a
// both_unavailable alert into sources_unavailable (pages at once), and
// every other warning or critical alert into failover/<pair>/<kind>.
// Info alerts (failover done, primary recovered) are already told by the
// state's conditions raising and resolving. Call it after every step.
func (m *Manager) FailoverDecision(ctx context.Context, d PairDecision) error {
	var errs []error
	both := false
	present := map[string]bool{}
	for _, a := range d.Alerts {
		if a.Kind == failover.AlertBothUnavailable {
			both = true
			errs = append(errs, m.Raise(ctx, Key(KindSourcesDown, d.Pair), failure.Critical, Details{
				Title:   "Primary and backup unavailable: " + d.Pair,
				Message: a.Summary,
				System:  "ACODE Redundancy System",
				Action:  "No data is being synced. Restore the primary or the backup's replication; `acode status` shows why each is refused.",
				Metrics: classMetric(a.Class),
			}))
			continue
		}
		if a.Severity != failure.Warning && a.Severity != failure.Critical {
			continue
		}
		key := Key(KindFailover, d.Pair, string(a.Kind))
		present[key] = true
		errs = append(errs, m.Raise(ctx, key, a.Severity, Details{
			Title:   strings.ReplaceAll(string(a.Kind), "_", " ") + ": " + d.Pair,
			Message: a.Summary,
			System:  "ACODE Redundancy System",
			Action:  "See the status page; `acode status` shows the pair's state and history.",
			Metrics: classMetric(a.Class),
		}))
	}
	errs = append(errs, m.pairState(ctx, d.Pair, d.State, d.Reason, both, nil))
	for _, key := range m.openWithPrefix(Key(KindFailover, d.Pair) + "/") {
		if !present[key] {
			errs = append(errs, m.Clear(ctx, key, Details{Message: "✅ No longer reported by the failover state machine."}))
		}
	}
	return errors.Join(errs...)
}

func classMetric(class failure.Class) map[string]any {
	if class == "" {
		return nil
	}
	return map[string]any{"failure_class": class}
}

// openWithPrefix returns the keys of held conditions starting with prefix.
func (m *Manager) openWithPrefix(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k, c := range m.conds {
		if strings.HasPrefix(k, prefix) && c.st.ClearedAt == nil {
			out = append(out, k)
		}
	}
	return out
}

// Failover hands one decision of a pair's failover machine to
// FailoverDecision: the health loop and the jobs call it after every step
// of every pair.
func (m *Manager) Failover(ctx context.Context, d failover.Decision) error {
	pd := PairDecision{Pair: d.Pair, State: string(d.State), Reason: d.Reason}
	for _, a := range d.Alerts {
		pd.Alerts = append(pd.Alerts, PairAlert{Kind: a.Kind, Severity: a.Severity, Summary: a.Summary, Class: a.Class})
	}
	return m.FailoverDecision(ctx, pd)
}
