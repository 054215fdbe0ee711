package config

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Escalation priorities, the seed's escalation matrix ("Responsáveis e
// Escalation"), most urgent first.
var EscalationPriorities = []string{"critical", "high", "medium", "low"}

// AlertKinds are the kinds of alert condition package alert raises; the
// escalation's priorities map may name them.
var AlertKinds = []string{"sync_failing", "primary_unavailable", "sources_unavailable", "check", "password_expired", "failover"}

// Types of escalation sink.
const (
	SinkPagerDuty = "pagerduty" // an Events API v2 service: a page per level
	SinkSlack     = "slack"     // a Slack channel or person
	SinkWebhook   = "webhook"   // a JSON POST to a URL of your own
	SinkEmail     = "email"     // an e-mail through alerts.email's SMTP server
)

// EscalationSettings are alerts.escalation: who hears of a condition
// nobody acknowledged, level by level, by priority. A condition's priority
// is the more urgent of its severity's and its kind's in Priorities; a
// level whose sinks are all off (their variables unset) is passed over.
type EscalationSettings struct {
	// Policies (critical, high, medium, low): one per priority, in
	// EscalationPriorities order.
	Policies []EscalationPolicy
	// Sinks (sinks): named recipients the levels list, beside the
	// alerts section's own slack, pagerduty and webhook.
	Sinks []EscalationSink
	// Priorities (priorities): severity (critical, warning, info) or
	// condition kind -> priority.
	Priorities map[string]string
}

// EscalationPolicy is one priority's row of the matrix.
type EscalationPolicy struct {
	Priority string
	// After (after) is the priority's response time: a level not
	// acknowledged within it hands over to the next one. It is the
	// default delay of every level but the first.
	After  time.Duration
	Levels []EscalationLevel // levels, notified in order
}

// EscalationLevel is one step of a policy.
type EscalationLevel struct {
	Name  string        // name: shown in the notification (on-call, lead, CTO)
	After time.Duration // after: since the previous level (the first: since the condition opened); default the policy's after, 0 for the first
	Sinks []string      // sinks: names of sinks
}

// EscalationSink is a named recipient of escalations. Its secret is in an
// environment variable; an unset or empty one turns the sink off.
type EscalationSink struct {
	Name          string
	Type          string   // type: SinkPagerDuty, SinkSlack or SinkWebhook
	RoutingKeyEnv string   // routing_key_env (pagerduty)
	EventsURL     string   // events_url (pagerduty): default alerts.pagerduty.events_url
	WebhookURLEnv string   // webhook_url_env (slack): an incoming webhook of its own
	Channel       string   // channel (slack): posted with alerts.slack's bot token when no webhook
	URLEnv        string   // url_env (webhook)
	To            []string // to (email): recipients, sent through alerts.email's server and sender
}

// Policy returns the policy of priority p.
func (e EscalationSettings) Policy(p string) (EscalationPolicy, bool) {
	for _, pol := range e.Policies {
		if pol.Priority == p {
			return pol, true
		}
	}
	return EscalationPolicy{}, false
}

// DefaultEscalation is the seed's matrix: critical 15 minutes, on-call ->
// lead -> CTO; high 1 hour, on-call -> lead; medium 4 hours, the assigned
// engineer; low 24 hours, sprint planning. Each recipient is a sink whose
// variable switches it on: nothing escalates until one is set.
func DefaultEscalation() EscalationSettings {
	pd := func(name, env string) EscalationSink {
		return EscalationSink{Name: name, Type: SinkPagerDuty, RoutingKeyEnv: env}
	}
	lvl := func(name string, sinks ...string) EscalationLevel { return EscalationLevel{Name: name, Sinks: sinks} }
	return EscalationSettings{
		Policies: []EscalationPolicy{
			{Priority: "critical", After: 15 * time.Minute, Levels: []EscalationLevel{
				lvl("on-call", "oncall"), {Name: "lead", Sinks: []string{"lead"}, After: 15 * time.Minute},
				{Name: "CTO", Sinks: []string{"cto"}, After: 15 * time.Minute}}},
			{Priority: "high", After: time.Hour, Levels: []EscalationLevel{
				lvl("on-call", "oncall"), {Name: "lead", Sinks: []string{"lead"}, After: time.Hour}}},
			{Priority: "medium", After: 4 * time.Hour, Levels: []EscalationLevel{lvl("assigned engineer", "engineer")}},
			{Priority: "low", After: 24 * time.Hour, Levels: []EscalationLevel{lvl("sprint planning", "planning")}},
		},
		Sinks: []EscalationSink{
			pd("oncall", "ACODE_PAGERDUTY_ONCALL_ROUTING_KEY"),
			pd("lead", "ACODE_PAGERDUTY_LEAD_ROUTING_KEY"),
			pd("cto", "ACODE_PAGERDUTY_CTO_ROUTING_KEY"),
			{Name: "engineer", Type: SinkWebhook, URLEnv: "ACODE_ESCALATION_ENGINEER_URL"},
			{Name: "planning", Type: SinkWebhook, URLEnv: "ACODE_ESCALATION_PLANNING_URL"},
		},
		Priorities: map[string]string{
			"critical": "critical", "warning": "medium", "info": "low",
			"sync_failing": "high", "sources_unavailable": "critical",
		},
	}
}

// builtinSinks are the alerts section's own sinks, which levels may name.
var builtinSinks = []string{"slack", "pagerduty", "webhook"}

// decode reads alerts.escalation over the defaults: a policy, the sinks
// and the priorities given replace the default ones of the same name.
// hasSMTP says whether alerts.email has a server, which email sinks need.
func (e *EscalationSettings) decode(m *mapNode, hasSMTP bool) {
	if sm := m.child("sinks"); sm != nil {
		for _, name := range sm.keys() {
			if slices.Contains(builtinSinks, name) {
				sm.errorf(name, "%q is the alerts section's own sink; give this one another name", name)
				continue
			}
			if s, ok := decodeEscalationSink(sm, name, hasSMTP); ok {
				e.Sinks = slices.DeleteFunc(e.Sinks, func(o EscalationSink) bool { return o.Name == name })
				e.Sinks = append(e.Sinks, s)
			}
		}
	}
	if pm := m.child("priorities"); pm != nil {
		e.Priorities = maps.Clone(e.Priorities)
		for _, k := range pm.keys() {
			if !slices.Contains([]string{"critical", "warning", "info"}, k) && !slices.Contains(AlertKinds, k) {
				pm.errorf(k, "must be a severity (critical, warning, info) or a condition kind (%s)", strings.Join(AlertKinds, ", "))
				continue
			}
			v := e.Priorities[k]
			if pm.enum(k, &v, EscalationPriorities...) {
				e.Priorities[k] = v
			}
		}
		pm.finish()
	}
	for i, p := range EscalationPriorities {
		pm := m.child(p)
		if pm == nil {
			continue
		}
		if pol, ok := e.decodePolicy(pm, p); ok {
			e.Policies[i] = pol
		}
		pm.finish()
	}
}

func decodeEscalationSink(sm *mapNode, name string, hasSMTP bool) (EscalationSink, bool) {
	c := sm.child(name)
	if c == nil {
		if !sm.wasBad(name) {
			sm.errorf(name, "must be a mapping with type: pagerduty, slack, webhook or email")
		}
		return EscalationSink{}, false
	}
	defer c.finish()
	s := EscalationSink{Name: name}
	if !c.enum("type", &s.Type, SinkPagerDuty, SinkSlack, SinkWebhook, SinkEmail) {
		c.missing("type")
		return s, false
	}
	switch s.Type {
	case SinkPagerDuty:
		c.envName("routing_key_env", &s.RoutingKeyEnv)
		if c.str("events_url", &s.EventsURL) {
			c.httpURL("events_url", s.EventsURL)
		}
		if s.RoutingKeyEnv == "" && !c.wasBad("routing_key_env") {
			c.missing("routing_key_env")
		}
	case SinkSlack:
		c.envName("webhook_url_env", &s.WebhookURLEnv)
		c.str("channel", &s.Channel)
		if s.WebhookURLEnv == "" && s.Channel == "" && !c.wasBad("webhook_url_env") {
			c.errorf("type", "a slack sink needs webhook_url_env or a channel (posted with alerts.slack.token_env)")
		}
	case SinkWebhook:
		c.envName("url_env", &s.URLEnv)
		if s.URLEnv == "" && !c.wasBad("url_env") {
			c.missing("url_env")
		}
	case SinkEmail:
		s.To = c.strings("to")
		if len(s.To) == 0 && !c.wasBad("to") {
			c.errorf("to", "an email sink needs at least one recipient")
		}
		for _, a := range s.To {
			if _, err := mail.ParseAddress(a); err != nil {
				c.errorf("to", "%q is not an e-mail address", a)
			}
		}
		if !hasSMTP {
			c.errorf("type", "an email sink is sent through alerts.email: set alerts.email.smtp_host")
		}
	}
	return s, true
}

func (e *EscalationSettings) decodePolicy(pm *mapNode, priority string) (EscalationPolicy, bool) {
	pol, _ := e.Policy(priority)
	was := pol.After
	pm.duration("after", &pol.After)
	items := pm.seq("levels")
	if items == nil {
		if pm.has("levels") || pm.wasBad("levels") {
			return pol, false
		}
		// after alone changes the response time of the levels kept: those
		// that waited the old one wait the new one.
		pol.Levels = slices.Clone(pol.Levels)
		for i := range pol.Levels {
			if i > 0 && pol.Levels[i].After == was {
				pol.Levels[i].After = pol.After
			}
		}
		return pol, true
	}
	pol.Levels = nil
	for i, it := range items {
		lm := pm.item(it, "levels", i)
		if lm == nil {
			return pol, false
		}
		l := EscalationLevel{After: pol.After}
		if i == 0 {
			l.After = 0
		}
		lm.str("name", &l.Name)
		lm.nonNegativeDuration("after", &l.After)
		l.Sinks = lm.strings("sinks")
		if len(l.Sinks) == 0 && !lm.wasBad("sinks") {
			lm.errorf("sinks", "a level needs at least one sink (a name under alerts.escalation.sinks, or slack, pagerduty, webhook)")
		}
		for _, name := range l.Sinks {
			if known := e.sinkNames(); !slices.Contains(known, name) {
				lm.errorf("sinks", "no sink named %q (sinks: %s)", name, strings.Join(known, ", "))
			}
		}
		if l.Name == "" {
			l.Name = fmt.Sprintf("level %d", i+1)
		}
		lm.finish()
		pol.Levels = append(pol.Levels, l)
	}
	if len(pol.Levels) == 0 {
		pm.errorf("levels", "list at least one level, or leave the priority out")
		return pol, false
	}
	return pol, true
}

// sinkNames are the names a level may list.
func (e *EscalationSettings) sinkNames() []string {
	known := slices.Clone(builtinSinks)
	for _, s := range e.Sinks {
		known = append(known, s.Name)
	}
	return known
}
