package pairsync

import (
	"context"
	"time"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/health"
)

// Round is one health round: what the checks found and what each pair's
// state machine decided from it. `acode health`, `acode serve`'s health
// loop, `acode sync --source auto` and the demo's drill all run it.
type Round struct {
	Results   []health.Result     `json:"results"`
	Decisions []failover.Decision `json:"failover,omitempty"`
}

// HealthRound runs every health check once, records the results, and feeds
// them to every pair's state machine: one tick of `acode serve`'s health
// loop. Each decision goes to OnDecision. The Round holds what was found
// and decided up to an error.
func (o *Orchestrator) HealthRound(ctx context.Context) (Round, error) {
	results, err := o.CheckHealth(ctx)
	if err != nil {
		return Round{}, err
	}
	ds, err := o.ObserveHealth(ctx, results)
	return Round{Results: results, Decisions: ds}, err
}

// CheckHealth runs every health check once, records the results in the
// health history and hands them to OnHealth, without feeding them to the
// state machines (`acode health --no-failover` stops here).
func (o *Orchestrator) CheckHealth(ctx context.Context) ([]health.Result, error) {
	c := o.checker()
	results, err := c.Run(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.Record(ctx, results); err != nil {
		o.log().Warn("record health history", "err", err)
	}
	if o.OnHealth != nil {
		o.OnHealth(ctx, results)
	}
	return results, nil
}

// ObserveHealth feeds a round's results to every pair's state machine,
// logs each transition and hands each decision to OnDecision.
func (o *Orchestrator) ObserveHealth(ctx context.Context, results []health.Result) ([]failover.Decision, error) {
	pairs, err := failover.PairsFrom(o.Project)
	if err != nil {
		return nil, err
	}
	out := make([]failover.Decision, 0, len(pairs))
	for _, p := range pairs {
		d, err := o.Machine(p).ObserveHealth(ctx, PairHealth(p, results))
		if err != nil {
			return out, err
		}
		if d.Transition != nil {
			o.log().Warn("failover transition", "pair", d.Pair, "from", d.Transition.From, "to", d.Transition.To,
				"who", d.Transition.Who, "reason", d.Transition.Reason)
		}
		if o.OnDecision != nil {
			o.OnDecision(ctx, d)
		}
		out = append(out, d)
	}
	return out, nil
}

// Watch runs a health round every interval until ctx ends, the first one
// interval after the start (like a cron every 5 minutes: the state a
// restarted acode resumes is persisted, and the first seconds of a start
// stay free of checks that may take a connect timeout). The caller owns
// the goroutine it runs on. A round that fails is logged and the next one
// runs on time.
func (o *Orchestrator) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := o.HealthRound(ctx); err != nil && ctx.Err() == nil {
			o.log().Error("health round", "err", err)
		}
	}
}
