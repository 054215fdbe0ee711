package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoad_EscalationDefaultsAreTheSeedsMatrix(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	e := p.Settings.Alerts.Escalation
	want := map[string]struct {
		after  time.Duration
		levels string
	}{
		"critical": {15 * time.Minute, "on-call>lead>CTO"},
		"high":     {time.Hour, "on-call>lead"},
		"medium":   {4 * time.Hour, "assigned engineer"},
		"low":      {24 * time.Hour, "sprint planning"},
	}
	for prio, w := range want {
		pol, ok := e.Policy(prio)
		var names []string
		for _, l := range pol.Levels {
			names = append(names, l.Name)
		}
		if !ok || pol.After != w.after || strings.Join(names, ">") != w.levels {
			t.Errorf("%s: %+v, want after %s and levels %s", prio, pol, w.after, w.levels)
		}
	}
	if c, _ := e.Policy("critical"); c.Levels[0].After != 0 || c.Levels[1].After != 15*time.Minute || c.Levels[2].After != 15*time.Minute {
		t.Errorf("critical delays: %+v", c.Levels)
	}
	if e.Priorities["critical"] != "critical" || e.Priorities["sync_failing"] != "high" {
		t.Errorf("priorities: %v", e.Priorities)
	}
}

func TestLoad_EscalationOverrides(t *testing.T) {
	t.Parallel()
	yaml := `alerts:
  escalation:
    sinks:
      oncall: {type: pagerduty, routing_key_env: PD_ONCALL, events_url: "http://127.0.0.1:9/v2/enqueue"}
      joao: {type: slack, channel: "@joao.silva"}
      cto: {type: webhook, url_env: CTO_HOOK}
    priorities:
      warning: high
    critical:
      after: 10m
      levels:
        - {name: on-call, sinks: [oncall, slack]}
        - {name: lead, sinks: [joao]}
        - {name: CTO, sinks: [cto], after: 1h}
    low:
      after: 48h
`
	p, err := Load(writeProject(t, edit{SettingsFile, "", yaml}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	e := p.Settings.Alerts.Escalation
	c, _ := e.Policy("critical")
	if c.After != 10*time.Minute || len(c.Levels) != 3 || c.Levels[0].After != 0 || c.Levels[1].After != 10*time.Minute ||
		c.Levels[2].After != time.Hour || strings.Join(c.Levels[0].Sinks, ",") != "oncall,slack" {
		t.Errorf("critical: %+v", c)
	}
	if l, _ := e.Policy("low"); l.After != 48*time.Hour || len(l.Levels) != 1 {
		t.Errorf("low: %+v", l)
	}

	// after alone: the default levels wait the new response time.
	p, err = Load(writeProject(t, edit{SettingsFile, "", "alerts:\n  escalation:\n    high:\n      after: 30m\n"}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := p.Settings.Alerts.Escalation.Policy("high"); h.After != 30*time.Minute || len(h.Levels) != 2 ||
		h.Levels[0].After != 0 || h.Levels[1].After != 30*time.Minute || h.Levels[1].Name != "lead" {
		t.Errorf("high with after only: %+v", h)
	}
	if e.Priorities["warning"] != "high" || e.Priorities["info"] != "low" {
		t.Errorf("priorities: %v", e.Priorities)
	}
	var joao, oncall EscalationSink
	for _, s := range e.Sinks {
		switch s.Name {
		case "joao":
			joao = s
		case "oncall":
			oncall = s
		}
	}
	if joao.Type != SinkSlack || joao.Channel != "@joao.silva" || oncall.RoutingKeyEnv != "PD_ONCALL" || oncall.EventsURL == "" {
		t.Errorf("sinks: %+v", e.Sinks)
	}
}

func TestLoad_EscalationErrorsAreLocated(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		yaml, key, msg string
		line           int
	}{
		{"alerts:\n  escalation:\n    critical:\n      levels:\n        - {sinks: [oncall]}\n        - {sinks: [nobody]}\n",
			"alerts.escalation.critical.levels[1].sinks", `no sink named "nobody"`, 6},
		{"alerts:\n  escalation:\n    urgent:\n      after: 1m\n", "alerts.escalation.urgent", "unknown key", 3},
		{"alerts:\n  escalation:\n    high:\n      after: soon\n", "alerts.escalation.high.after", "must be a duration", 4},
		{"alerts:\n  escalation:\n    high:\n      levels: []\n", "alerts.escalation.high.levels", "at least one level", 4},
		{"alerts:\n  escalation:\n    high:\n      levels:\n        - {name: x}\n", "alerts.escalation.high.levels[0].sinks", "at least one sink", 5},
		{"alerts:\n  escalation:\n    high:\n      levels:\n        - {sinks: [oncall], wait: 1m}\n", "alerts.escalation.high.levels[0].wait", "unknown key", 5},
		{"alerts:\n  escalation:\n    sinks:\n      lead: {type: sms}\n", "alerts.escalation.sinks.lead.type", "must be one of pagerduty, slack, webhook", 4},
		{"alerts:\n  escalation:\n    sinks:\n      lead: {type: pagerduty}\n", "alerts.escalation.sinks.lead.routing_key_env", "required", 4},
		{"alerts:\n  escalation:\n    sinks:\n      slack: {type: webhook, url_env: X}\n", "alerts.escalation.sinks.slack", "own sink", 4},
		{"alerts:\n  escalation:\n    priorities:\n      sync_faling: high\n", "alerts.escalation.priorities.sync_faling", "condition kind", 4},
		{"alerts:\n  escalation:\n    priorities:\n      warning: urgent\n", "alerts.escalation.priorities.warning", "must be one of critical, high, medium, low", 4},
	} {
		_, err := Load(writeProject(t, edit{SettingsFile, "", tt.yaml}), minimalEnv)
		errs := Errors(err)
		if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Msg, tt.msg) || errs[0].Line != tt.line || errs[0].File != SettingsFile {
			t.Errorf("%q: got %v, want one error at %s:%d %s containing %q", tt.yaml, err, SettingsFile, tt.line, tt.key, tt.msg)
		}
	}
}

func TestLoad_EmailSinksNeedTheSMTPServerAndAddresses(t *testing.T) {
	t.Parallel()
	_, err := Load(writeProject(t, edit{SettingsFile, "", `alerts:
  escalation:
    sinks:
      lead_mail: {type: email, to: [lead@acode.test]}
      bad_mail: {type: email, to: ["not an address"]}
      none_mail: {type: email}
`}), minimalEnv)
	for _, want := range []string{
		"alerts.escalation.sinks.lead_mail.type: an email sink is sent through alerts.email: set alerts.email.smtp_host",
		`alerts.escalation.sinks.bad_mail.to: "not an address" is not an e-mail address`,
		"alerts.escalation.sinks.none_mail.to: an email sink needs at least one recipient",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	p, err := Load(writeProject(t, edit{SettingsFile, "", `alerts:
  evaluate_every: 5s
  email: {smtp_host: mail.acode.test, to: [team@acode.test]}
  escalation:
    sinks:
      lead_mail: {type: email, to: [lead@acode.test, cto@acode.test]}
    critical:
      levels: [{name: lead, sinks: [lead_mail]}]
`}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Settings.Alerts
	if a.EvaluateEvery != 5*time.Second || a.Escalation.Sinks[len(a.Escalation.Sinks)-1].Type != SinkEmail ||
		strings.Join(a.Escalation.Sinks[len(a.Escalation.Sinks)-1].To, ",") != "lead@acode.test,cto@acode.test" {
		t.Errorf("alerts %+v", a)
	}
}

func TestLoad_OldEscalationTimersAreDeprecatedButRead(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t, edit{SettingsFile, "", "alerts:\n  critical_escalation: 20m\n"}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Settings.Alerts.CriticalEscalation != 20*time.Minute || len(p.Warnings) != 1 ||
		!strings.HasPrefix(p.Warnings[0], "acode.yaml:2: alerts.critical_escalation: deprecated: read into the escalation matrix") {
		t.Errorf("critical_escalation %v, warnings %q", p.Settings.Alerts.CriticalEscalation, p.Warnings)
	}
}
