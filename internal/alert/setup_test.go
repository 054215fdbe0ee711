package alert

import (
	"context"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func defaultAlertSettings(t *testing.T) config.AlertSettings {
	t.Helper()
	return config.DefaultSettings(t.TempDir()).Alerts
}

func TestFromSettings_SinksOnlyWhereTheEnvironmentHoldsTheirSecret(t *testing.T) {
	t.Parallel()
	s := defaultAlertSettings(t)
	got, err := FromSettings(s, envOf(nil))
	if err != nil || len(got.Active) != 0 || got.Mailer != nil {
		t.Fatalf("no environment: %+v, %v; want every sink off", got.Active, err)
	}
	recv := newReceiver(t)
	s.PagerDuty.EventsURL = recv.URL("/pd/v2/enqueue")
	s.Email.SMTPHost, s.Email.To = "127.0.0.1", []string{"a@b.test"}
	got, err = FromSettings(s, envOf(map[string]string{
		"ACODE_SLACK_WEBHOOK_URL":     recv.URL(slackPath),
		"ACODE_PAGERDUTY_ROUTING_KEY": routingKey,
		"ACODE_ALERT_WEBHOOK_URL":     recv.URL("/hook"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Active, ",") != "slack,webhook,pagerduty,email" || len(got.Config.Chat) != 2 || len(got.Config.Pagers) != 1 {
		t.Fatalf("active %v", got.Active)
	}
	if got.Config.CriticalEscalation != s.CriticalEscalation || got.Config.System != "ACODE Pipeline" {
		t.Errorf("config: %+v", got.Config)
	}
	// The sinks built from the settings reach the endpoints.
	for _, sink := range append(got.Config.Chat, got.Config.Pagers...) {
		if err := sink.Send(context.Background(), sampleAlert(failure.Critical, EventTrigger)); err != nil {
			t.Errorf("%s: %v", sink.Name(), err)
		}
	}
	if n := len(recv.all()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestFromSettings_BadURLNamesTheVariableNotTheValue(t *testing.T) {
	t.Parallel()
	_, err := FromSettings(defaultAlertSettings(t), envOf(map[string]string{"ACODE_SLACK_WEBHOOK_URL": "hooks.slack.com/services/s3cretpath"}))
	if err == nil || !strings.Contains(err.Error(), "ACODE_SLACK_WEBHOOK_URL") || strings.Contains(err.Error(), "s3cretpath") {
		t.Errorf("err = %v", err)
	}
	got, err := FromSettings(defaultAlertSettings(t), envOf(map[string]string{"ACODE_SLACK_TOKEN": "xoxb-1"}))
	if err != nil || strings.Join(got.Active, ",") != "slack" {
		t.Errorf("bot token with the default channel: %v, %v", got.Active, err)
	}
}
