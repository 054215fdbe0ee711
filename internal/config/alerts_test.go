package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoad_AlertSettingsDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Settings.Alerts; !reflect.DeepEqual(got, defaultAlertSettings()) || got.CriticalEscalation != 30*time.Minute ||
		got.SyncFailingEscalation != 2*time.Hour || got.Slack.Channel != "#data-engineering-alerts" || got.Email.SMTPHost != "" {
		t.Errorf("defaults: %+v", got)
	}
	yaml := `alerts:
  status_page_url: http://acode.internal:8001/
  clear_after: 0
  slack:
    webhook_url_env: SLACK_HOOK
    api_url: http://127.0.0.1:9/api
  pagerduty:
    events_url: http://127.0.0.1:9/v2/enqueue
  webhook:
    url_env: MY_HOOK
  email:
    smtp_host: mail.example.com
    smtp_port: 465
    tls: tls
    to: [a@example.com, b@example.com]
    daily_at: "07:30"
    time_zone: America/Sao_Paulo
`
	p, err = Load(writeProject(t, edit{SettingsFile, "", yaml}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Settings.Alerts
	if a.StatusPageURL != "http://acode.internal:8001/" || a.ClearAfter != 0 || a.MinInterval != 30*time.Minute ||
		a.Slack.WebhookURLEnv != "SLACK_HOOK" || a.Slack.TokenEnv != "ACODE_SLACK_TOKEN" || a.Slack.APIURL != "http://127.0.0.1:9/api" ||
		a.PagerDuty.EventsURL != "http://127.0.0.1:9/v2/enqueue" || a.Webhook.URLEnv != "MY_HOOK" {
		t.Errorf("overrides: %+v", a)
	}
	e := a.Email
	if e.SMTPHost != "mail.example.com" || e.SMTPPort != 465 || e.TLS != SMTPTLS || strings.Join(e.To, ",") != "a@example.com,b@example.com" ||
		e.DailyAt != "07:30" || e.TimeZone != "America/Sao_Paulo" || e.From != "acode@localhost" {
		t.Errorf("email: %+v", e)
	}
}

func TestLoad_AlertSettingsErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, key, msg string }{
		{"alerts:\n  status_page_url: acode:8001\n", "alerts.status_page_url", "http:// or https:// URL"},
		{"alerts:\n  min_interval: 0\n", "alerts.min_interval", "must be positive"},
		{"alerts:\n  slack:\n    webhook_url_env: https://hooks.slack.com/services/x\n", "alerts.slack.webhook_url_env", "must name an environment variable"},
		{"alerts:\n  slack:\n    chanel: x\n", "alerts.slack.chanel", "unknown key"},
		{"alerts:\n  pagerduty:\n    events_url: ftp://x\n", "alerts.pagerduty.events_url", "http:// or https:// URL"},
		{"alerts:\n  email:\n    smtp_host: mail\n", "alerts.email.to", "at least one recipient"},
		{"alerts:\n  email:\n    daily_at: 8am\n", "alerts.email.daily_at", "HH:MM"},
		{"alerts:\n  email:\n    time_zone: Mars/Olympus\n", "alerts.email.time_zone", "IANA time zone"},
		{"alerts:\n  email:\n    tls: ssl\n", "alerts.email.tls", "must be one of starttls, tls, none"},
	} {
		_, err := Load(writeProject(t, edit{SettingsFile, "", tt.yaml}), minimalEnv)
		errs := Errors(err)
		if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Msg, tt.msg) {
			t.Errorf("%q: got %v, want one error at %s containing %q", tt.yaml, err, tt.key, tt.msg)
		}
	}
}
