package failover

import (
	"context"
	"fmt"

	"github.com/acode-dev/acode/internal/state"
)

// Status is what is known of a pair now, read without changing anything:
// the decision a sync started now would get, the persisted state, and as
// much history as StatusOptions ask for. `acode status`, the status page
// and /metrics all read a pair through it, so they cannot disagree.
// The JSON field order is `acode status --json`'s.
type Status struct {
	Decision    Decision                   `json:"decision"`
	State       state.FailoverState        `json:"state"`
	Transitions []state.FailoverTransition `json:"transitions"`
	Jobs        []state.Job                `json:"jobs"`
	Checks      []state.HealthRecord       `json:"checks"`
	Pair        Pair                       `json:"pair"`
}

// StatusOptions say how much history a Status carries; the zero value
// carries none (the decision and the state only).
type StatusOptions struct {
	// Transitions is how many of the newest transitions to keep.
	Transitions int
	// Jobs is how many of the newest jobs of each of the pair's
	// connections to keep, the primary's first.
	Jobs int
	// Health is the store's latest health results (state.Store.LatestHealth);
	// those about the pair's sources and connections become Status.Checks.
	Health []state.HealthRecord
}

// Status reads the pair's Status. The decision is Current's: nothing is
// stepped or written.
func (m *Machine) Status(ctx context.Context, opts StatusOptions) (Status, error) {
	out := Status{Pair: m.pair, Checks: pairChecks(opts.Health, m.pair)}
	var err error
	if out.Decision, err = m.Current(ctx); err != nil {
		return Status{}, err
	}
	if out.State, err = m.load(ctx); err != nil {
		return Status{}, fmt.Errorf("failover state of %s: %w", m.pair.Primary, err)
	}
	if opts.Transitions > 0 {
		if out.Transitions, err = m.store.FailoverTransitions(ctx, m.pair.Primary, opts.Transitions); err != nil {
			return Status{}, err
		}
	}
	if opts.Jobs > 0 {
		for _, c := range []string{m.pair.Primary, m.pair.Backup} {
			js, err := m.store.ListJobs(ctx, state.JobFilter{Connection: c, Limit: opts.Jobs})
			if err != nil {
				return Status{}, fmt.Errorf("jobs of %s: %w", c, err)
			}
			out.Jobs = append(out.Jobs, js...)
		}
	}
	return out, nil
}

// Statuses reads the Status of each pair.
func Statuses(ctx context.Context, store *state.Store, pairs []Pair, pol Policy, opts StatusOptions) ([]Status, error) {
	out := make([]Status, 0, len(pairs))
	for _, p := range pairs {
		s, err := New(store, p, pol).Status(ctx, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// pairChecks keeps the health results about the pair's sources and
// connections.
func pairChecks(all []state.HealthRecord, p Pair) []state.HealthRecord {
	var out []state.HealthRecord
	for _, r := range all {
		switch r.Target {
		case p.PrimarySource, p.BackupSource, p.Primary, p.Backup:
			out = append(out, r)
		}
	}
	return out
}
