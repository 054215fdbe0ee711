package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// evaluate brings what the sinks were told in line with c's state at now,
// then saves c (or forgets it once fully resolved). The caller holds m.mu.
func (m *Manager) evaluate(ctx context.Context, c *condition, now time.Time) error {
	if c.st.ClearedAt == nil {
		m.notifyRaised(ctx, c, now)
		m.forwardAck(ctx, c, now)
		m.escalate(ctx, c, now)
		return m.save(ctx, c)
	}
	if now.Sub(*c.st.ClearedAt) < m.cfg.ClearAfter {
		return m.save(ctx, c)
	}
	if c.st.Paged && c.st.EscalationLevel == 0 {
		// Paged by the old timer (before an upgrade): its resolve is
		// retried until a pager takes it.
		c.st.Paged = !m.send(ctx, m.cfg.Pagers, c, EventResolve, now)
	}
	m.resolveEscalation(ctx, c, now)
	if c.st.Notified != "" {
		m.send(ctx, m.cfg.Chat, c, EventResolved, now)
		c.st.Notified = ""
		c.st.LastSentAt = &now
	}
	if c.st.Paged {
		return m.save(ctx, c) // the page's resolve is retried on the next evaluation
	}
	delete(m.conds, c.st.Key)
	if err := m.cfg.Store.DeleteAlertCondition(ctx, c.st.Key); err != nil {
		return err
	}
	return nil
}

// notifyRaised tells the chat sinks about a condition they have not heard
// of at this severity. The first notification of an episode waits until
// MinInterval has passed since the condition's previous one (a flapping
// check); a worse severity is told at once.
func (m *Manager) notifyRaised(ctx context.Context, c *condition, now time.Time) {
	sev := failure.Severity(c.st.Severity)
	if sev.Rank() <= failure.Severity(c.st.Notified).Rank() {
		return
	}
	first := c.st.Notified == ""
	if first && c.st.LastSentAt != nil && now.Sub(*c.st.LastSentAt) < m.cfg.MinInterval {
		if !c.suppressed {
			c.suppressed = true
			m.log.Info("alert throttled", "condition", c.st.Key, "severity", sev,
				"until", c.st.LastSentAt.Add(m.cfg.MinInterval).UTC().Format(time.RFC3339))
			m.record(ctx, c, EventRaised, "*", state.AlertSuppressed, "", now)
		}
		return
	}
	m.send(ctx, m.cfg.Chat, c, EventRaised, now)
	c.st.Notified = string(sev)
	c.st.LastSentAt = &now
	c.suppressed = false
}

// send hands one alert about c to every sink and records each outcome. It
// reports whether at least one sink took it (true when there are none).
func (m *Manager) send(ctx context.Context, sinks []Sink, c *condition, ev Event, now time.Time) bool {
	if len(sinks) == 0 {
		return true
	}
	a := m.alertFor(c, ev, now)
	ok := false
	for _, s := range sinks {
		if m.deliver(ctx, s, c, a) {
			ok = true
		}
	}
	return ok
}

// deliver hands a to one sink and records the outcome; it reports whether
// the sink took it.
func (m *Manager) deliver(ctx context.Context, s Sink, c *condition, a Alert) bool {
	sctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	err := s.Send(sctx, a)
	cancel()
	if err != nil {
		m.failed.WithLabelValues(s.Name()).Inc()
		m.log.Warn("alert not delivered", "sink", s.Name(), "condition", c.st.Key, "event", a.Event, "err", err)
		m.record(ctx, c, a.Event, s.Name(), state.AlertFailed, err.Error(), a.Time)
		return false
	}
	m.sent.WithLabelValues(s.Name(), c.st.Severity).Inc()
	m.log.Info("alert sent", "sink", s.Name(), "condition", c.st.Key, "event", a.Event, "severity", c.st.Severity)
	m.record(ctx, c, a.Event, s.Name(), state.AlertSent, "", a.Time)
	return true
}

func (m *Manager) alertFor(c *condition, ev Event, now time.Time) Alert {
	a := Alert{
		Condition: c.st.Key, Kind: kindOf(c.st.Key), Severity: failure.Severity(c.st.Severity), Event: ev,
		Details: c.d, Time: now, Since: c.st.Since, DedupKey: DedupKey(c.st.Key), StatusURL: m.cfg.StatusURL,
	}
	if a.Title == "" {
		a.Title = c.st.Key
	}
	if a.System == "" {
		a.System = m.cfg.System
	}
	return a
}

// record appends one outcome to the alert log; a failure to record is
// logged, not returned: the alert itself went out.
func (m *Manager) record(ctx context.Context, c *condition, ev Event, sink, status, errText string, now time.Time) {
	title := c.d.Title
	if title == "" {
		title = c.st.Key
	}
	_, err := m.cfg.Store.RecordAlert(ctx, state.AlertRecord{
		Condition: c.st.Key, Severity: c.st.Severity, Event: string(ev), Sink: sink, Title: title,
		Message: c.d.Message, DedupKey: DedupKey(c.st.Key), Status: status, Error: errText, At: now,
	})
	if err != nil {
		m.log.Warn("alert not recorded", "condition", c.st.Key, "err", err)
	}
}

func (m *Manager) save(ctx context.Context, c *condition) error {
	d, err := json.Marshal(c.d)
	if err != nil {
		return fmt.Errorf("alert condition %s: %w", c.st.Key, err)
	}
	c.st.Details = string(d)
	return m.cfg.Store.SaveAlertCondition(ctx, c.st)
}

// lastSent is when the chat sinks last heard of key, from the alert log,
// so the throttle spans episodes and restarts.
func (m *Manager) lastSent(ctx context.Context, key string) *time.Time {
	recs, err := m.cfg.Store.Alerts(ctx, state.AlertFilter{Condition: key, Limit: 20})
	if err != nil {
		m.log.Warn("read alert log", "condition", key, "err", err)
		return nil
	}
	for _, r := range recs {
		if r.Status == state.AlertSent && (r.Event == string(EventRaised) || r.Event == string(EventResolved)) {
			at := r.At
			return &at
		}
	}
	return nil
}
