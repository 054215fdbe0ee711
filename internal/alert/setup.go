package alert

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/acode-dev/acode/internal/config"
)

// Setup is what acode.yaml's alerts section turns into: the Manager's
// configuration (without Store, Now and Log, which the caller sets), the
// daily e-mail, and the names of the sinks that are on.
type Setup struct {
	Config Config
	Mailer *Mailer // nil when no smtp_host is set
	Active []string
}

// FromSettings builds the sinks of s, reading their secrets from the
// environment through lookupEnv. A sink whose variable is unset or empty
// is off. A variable holding something that is not an http(s) URL is an
// error naming the variable, never its value.
func FromSettings(s config.AlertSettings, lookupEnv func(string) (string, bool)) (Setup, error) {
	env := func(name string) string {
		if name == "" {
			return ""
		}
		v, _ := lookupEnv(name)
		return v
	}
	client := &http.Client{Timeout: s.Timeout}
	out := Setup{Config: Config{
		System: s.System, StatusURL: s.StatusPageURL,
		MinInterval: s.MinInterval, ClearAfter: s.ClearAfter,
		CriticalEscalation: s.CriticalEscalation, SyncFailingEscalation: s.SyncFailingEscalation,
		Timeout: s.Timeout, EvaluateEvery: s.EvaluateEvery,
	}}

	if hook := env(s.Slack.WebhookURLEnv); hook != "" || env(s.Slack.TokenEnv) != "" {
		if err := checkURL(s.Slack.WebhookURLEnv, hook); err != nil {
			return Setup{}, err
		}
		sl, err := NewSlack(SlackOptions{WebhookURL: hook, Token: env(s.Slack.TokenEnv), Channel: s.Slack.Channel,
			APIURL: s.Slack.APIURL, Username: s.Slack.Username, IconEmoji: s.Slack.IconEmoji, Client: client})
		if err != nil {
			return Setup{}, fmt.Errorf("alerts.slack: %w", err)
		}
		out.Config.Chat = append(out.Config.Chat, sl)
		out.Active = append(out.Active, sl.Name())
	}
	if hook := env(s.Webhook.URLEnv); hook != "" {
		if err := checkURL(s.Webhook.URLEnv, hook); err != nil {
			return Setup{}, err
		}
		w, err := NewWebhook(hook, client)
		if err != nil {
			return Setup{}, fmt.Errorf("alerts.webhook: %w", err)
		}
		out.Config.Chat = append(out.Config.Chat, w)
		out.Active = append(out.Active, w.Name())
	}
	if key := env(s.PagerDuty.RoutingKeyEnv); key != "" {
		pd, err := NewPagerDuty(PagerDutyOptions{RoutingKey: key, EventsURL: s.PagerDuty.EventsURL, Client: client})
		if err != nil {
			return Setup{}, fmt.Errorf("alerts.pagerduty: %w", err)
		}
		out.Config.Pagers = append(out.Config.Pagers, pd)
		out.Active = append(out.Active, pd.Name())
	}
	esc, active, err := escalationFromSettings(s, out.Config, env, client)
	if err != nil {
		return Setup{}, err
	}
	out.Config.Escalation = esc
	out.Active = append(out.Active, active...)
	if e := s.Email; e.SMTPHost != "" {
		m, err := NewMailer(MailOptions{Host: e.SMTPHost, Port: e.SMTPPort, TLS: e.TLS,
			Username: env(e.UsernameEnv), Password: env(e.PasswordEnv), From: e.From, To: e.To, Timeout: 3 * s.Timeout})
		if err != nil {
			return Setup{}, fmt.Errorf("alerts.email: %w", err)
		}
		out.Mailer = m
		out.Active = append(out.Active, "email")
	}
	return out, nil
}

// checkURL reports a variable whose value is not an http(s) URL, naming
// the variable only: the value is a secret.
func checkURL(variable, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("environment variable %s must hold an http:// or https:// URL", variable)
	}
	return nil
}
