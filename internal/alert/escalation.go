package alert

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// EventEscalated tells a level of the escalation matrix (a chat or webhook
// sink) about a condition nobody acknowledged; a pager level gets
// EventTrigger instead.
const EventEscalated Event = "escalated"

// EventAcknowledged tells the sinks that heard of a condition who
// acknowledged it; PagerDuty acknowledges the incident.
const EventAcknowledged Event = "acknowledged"

// Escalation is the escalation matrix: by priority, the levels told in turn
// of a condition that stays open and unacknowledged.
type Escalation struct {
	// Policies are by priority (critical, high, medium, low).
	Policies map[string][]EscalationLevel
	// Priorities map a severity or a condition kind to a priority; a
	// condition takes the more urgent of its severity's and its kind's.
	Priorities map[string]string
	// Order lists the priorities, most urgent first.
	Order []string
}

// EscalationLevel is one step: its sinks are told After the previous
// level was (the first level: after the condition opened).
type EscalationLevel struct {
	Name  string
	After time.Duration
	Sinks []LevelSink
}

// LevelSink is one recipient of a level. Pager sinks get a page; Chat
// marks one of the Config's Chat sinks, which hear of the resolution anyway.
type LevelSink struct {
	Sink  Sink
	Pager bool
	Chat  bool
	// Kinds, when set, are the only condition kinds the sink hears of at
	// this level; NotKinds are kinds it does not (the legacy pager's
	// placements, see legacyPagers).
	Kinds, NotKinds []string
}

// EscalationInfo says, in an escalated alert, which level it is.
type EscalationInfo struct {
	Priority string `json:"priority"`
	Level    int    `json:"level"` // 1 for the first
	Name     string `json:"name"`
}

// named gives a sink the name it has in acode.yaml, so the alert log says
// "lead", not "pagerduty".
type named struct {
	Sink
	name string
}

func (n named) Name() string { return n.name }

// priorityOf is c's priority under the matrix, "" when none applies.
func (e *Escalation) priorityOf(c *condition) string {
	best := ""
	for _, p := range []string{e.Priorities[c.st.Severity], e.Priorities[kindOf(c.st.Key)]} {
		if p != "" && (best == "" || e.rank(p) < e.rank(best)) {
			best = p
		}
	}
	return best
}

// rank is p's place in Order (0 most urgent); unknown ones rank last.
func (e *Escalation) rank(p string) int {
	if i := slices.Index(e.Order, p); i >= 0 {
		return i
	}
	return len(e.Order)
}

// escalate notifies the next level of c's policy when it is due and c is
// not acknowledged. A condition whose priority becomes more urgent starts
// the more urgent policy from its first level. Only the cluster's leader
// escalates (a condition another replica raised is escalated by the
// leader's next evaluation). The caller holds m.mu and saves c.
func (m *Manager) escalate(ctx context.Context, c *condition, now time.Time) {
	e := m.cfg.Escalation
	if e == nil || m.cfg.Lead != nil && !m.cfg.Lead() {
		return
	}
	prio := e.priorityOf(c)
	if prio == "" {
		return
	}
	if cur := c.st.EscalationPriority; cur == "" || e.rank(prio) < e.rank(cur) {
		start := now
		if cur == "" {
			start = c.st.Since
			if c.st.CriticalSince != nil && c.st.Severity == string(failure.Critical) {
				start = *c.st.CriticalSince
			}
		}
		c.st.EscalationPriority, c.st.EscalationLevel, c.st.EscalatedAt = prio, 0, &start
	}
	levels := e.Policies[c.st.EscalationPriority]
	for c.st.EscalationLevel < len(levels) {
		l := levels[c.st.EscalationLevel]
		if c.st.EscalatedAt != nil && now.Sub(*c.st.EscalatedAt) < l.After {
			return
		}
		if m.acknowledged(ctx, c) {
			return
		}
		ok, heard := m.notifyLevel(ctx, c, c.st.EscalationLevel, l, now)
		if !ok {
			return // every sink failed: the level is tried again on the next evaluation
		}
		c.st.EscalationLevel++
		at := now
		if !heard && c.st.EscalatedAt != nil {
			// Passed over: nobody was told, so the next level keeps its
			// time from the schedule, not from this evaluation.
			at = c.st.EscalatedAt.Add(l.After)
		}
		c.st.EscalatedAt = &at
	}
}

// acknowledged reports whether somebody acknowledged c. The ack is taken
// by whichever replica's API was called and lives in the store only, so it
// is read from there before a level is notified.
func (m *Manager) acknowledged(ctx context.Context, c *condition) bool {
	if c.st.AckedAt != nil {
		return true
	}
	st, err := m.cfg.Store.AlertCondition(ctx, c.st.Key)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return false // not saved yet: nobody could acknowledge it
	case err != nil:
		m.log.Warn("read acknowledgement; escalation waits", "condition", c.st.Key, "err", err)
		return true
	case st.AckedAt != nil:
		c.st.AckedAt, c.st.AckedBy = st.AckedAt, st.AckedBy
		m.log.Info("escalation stopped: acknowledged", "condition", c.st.Key, "by", st.AckedBy,
			"levels_notified", c.st.EscalationLevel)
		return true
	}
	return false
}

// notifyLevel tells level i's sinks about c and reports whether at least
// one took it (true when none hears c: the level is passed over) and
// whether any sink heard of c.
func (m *Manager) notifyLevel(ctx context.Context, c *condition, i int, l EscalationLevel, now time.Time) (ok, heard bool) {
	if len(l.Sinks) == 0 {
		m.log.Info("escalation level has no sink on; passed over", "condition", c.st.Key, "level", l.Name)
		return true, false
	}
	info := &EscalationInfo{Priority: c.st.EscalationPriority, Level: i + 1, Name: l.Name}
	for _, s := range l.Sinks {
		if !s.hears(c.kind()) {
			continue
		}
		heard = true
		ev := EventEscalated
		if s.Pager {
			ev = EventTrigger
		}
		a := m.alertFor(c, ev, now)
		a.Escalation = info
		if m.deliver(ctx, s.Sink, c, a) {
			ok = true
			c.st.Paged = c.st.Paged || s.Pager
		}
	}
	return ok || !heard, heard
}

func (c *condition) kind() string { return kindOf(c.st.Key) }

// resolveEscalation closes what the notified levels opened: pager sinks
// get a resolve (PagerDuty ignores a repeated one), chat sinks that do not
// hear every condition anyway get "resolved".
func (m *Manager) resolveEscalation(ctx context.Context, c *condition, now time.Time) {
	e := m.cfg.Escalation
	if e == nil || c.st.EscalationLevel == 0 {
		return
	}
	levels := e.Policies[c.st.EscalationPriority]
	for i := 0; i < c.st.EscalationLevel && i < len(levels); i++ {
		for _, s := range levels[i].Sinks {
			if !s.hears(c.kind()) {
				continue
			}
			ev := EventResolve
			if !s.Pager {
				if s.Chat {
					continue
				}
				ev = EventResolved
			}
			m.deliver(ctx, s.Sink, c, m.alertFor(c, ev, now))
		}
	}
	c.st.EscalationLevel, c.st.Paged = 0, false
}

// forwardAck tells, once, the sinks that heard of an acknowledged
// condition who took it: the notified levels, the open page, and the chat
// sinks when they were told of it. Only the leader does. The caller holds
// m.mu and saves c.
func (m *Manager) forwardAck(ctx context.Context, c *condition, now time.Time) {
	if c.st.AckedAt == nil || c.st.AckNotified || m.cfg.Lead != nil && !m.cfg.Lead() {
		return
	}
	c.st.AckNotified = true
	a := m.alertFor(c, EventAcknowledged, now)
	a.AcknowledgedBy = c.st.AckedBy
	if e := m.cfg.Escalation; e != nil {
		levels := e.Policies[c.st.EscalationPriority]
		for i := 0; i < c.st.EscalationLevel && i < len(levels); i++ {
			for _, s := range levels[i].Sinks {
				if !s.Chat && s.hears(c.kind()) {
					m.deliver(ctx, s.Sink, c, a)
				}
			}
		}
	}
	if c.st.Paged && c.st.EscalationLevel == 0 { // paged by the old timer before an upgrade
		for _, s := range m.cfg.Pagers {
			m.deliver(ctx, s, c, a)
		}
	}
	if c.st.Notified != "" {
		for _, s := range m.cfg.Chat {
			m.deliver(ctx, s, c, a)
		}
	}
}
