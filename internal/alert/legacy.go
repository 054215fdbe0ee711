package alert

import (
	"slices"
	"time"
)

// The alerts section's own pagerduty sink used to page on a timer of its
// own beside the matrix: both sources down at once, failing syncs after
// sync_failing_escalation, any other critical condition after
// critical_escalation. A condition could so be paged by the timer and by
// a level that names the same sink. Now only the matrix escalates: a pager
// of Config.Pagers that no level names is placed into the matrix at the
// times the old timer paged (legacyPagers), and a pager a level names is
// paged by that level only.

// legacyPriorities is the matrix that holds the legacy pager when Config
// has no Escalation (tests and embedders building a Config by hand).
var legacyPriorities = map[string]string{"critical": "critical", KindSyncFailing: "high", KindSourcesDown: "critical"}

// legacyPagers returns e with every pager no level names placed into it:
// in the critical policy, at once for both sources down and after
// critical for any kind but sync_failing; in every policy, after
// syncFailing for sync_failing. Each placement joins the level due at
// that time or becomes a level of its own, so the other levels keep
// their times. e is not modified.
func legacyPagers(e *Escalation, pagers []Sink, critical, syncFailing time.Duration) *Escalation {
	var free []Sink
	for _, p := range pagers {
		if !e.names(p) {
			free = append(free, p)
		}
	}
	if len(free) == 0 {
		return e
	}
	out := &Escalation{Policies: map[string][]EscalationLevel{}, Priorities: legacyPriorities,
		Order: []string{"critical", "high", "medium", "low"}}
	if e != nil {
		out.Priorities, out.Order = e.Priorities, e.Order
		for p, levels := range e.Policies {
			out.Policies[p] = slices.Clone(levels)
		}
	}
	for _, p := range free {
		out.Policies["critical"] = place(out.Policies["critical"], LevelSink{Sink: p, Pager: true, Kinds: []string{KindSourcesDown}}, 0)
		out.Policies["critical"] = place(out.Policies["critical"], LevelSink{Sink: p, Pager: true,
			NotKinds: []string{KindSourcesDown, KindSyncFailing}}, critical)
		for _, prio := range out.Order {
			out.Policies[prio] = place(out.Policies[prio], LevelSink{Sink: p, Pager: true, Kinds: []string{KindSyncFailing}}, syncFailing)
		}
	}
	return out
}

// names reports whether a level of e lists sink s.
func (e *Escalation) names(s Sink) bool {
	if e == nil {
		return false
	}
	for _, levels := range e.Policies {
		for _, l := range levels {
			for _, ls := range l.Sinks {
				if ls.Sink == s {
					return true
				}
			}
		}
	}
	return false
}

// place adds s to the level that starts at (since the condition opened),
// or inserts a level of its own there, shortening the next level's delay
// so that it keeps its time.
func place(levels []EscalationLevel, s LevelSink, at time.Duration) []EscalationLevel {
	var start time.Duration
	for i, l := range levels {
		t := start + l.After
		switch {
		case t == at:
			l.Sinks = append(slices.Clone(l.Sinks), s)
			levels[i] = l
			return levels
		case t > at:
			levels[i].After = t - at
			return slices.Insert(levels, i, EscalationLevel{Name: s.Sink.Name(), After: at - start, Sinks: []LevelSink{s}})
		}
		start = t
	}
	return append(levels, EscalationLevel{Name: s.Sink.Name(), After: at - start, Sinks: []LevelSink{s}})
}

// hears reports whether the level sink is told of conditions of kind.
func (s LevelSink) hears(kind string) bool {
	if len(s.Kinds) > 0 && !slices.Contains(s.Kinds, kind) {
		return false
	}
	return !slices.Contains(s.NotKinds, kind)
}
