package config

import (
	"net/url"
	"regexp"
	"time"
)

// Encryption of the SMTP connection of the daily e-mail.
const (
	SMTPStartTLS = "starttls" // plain connect, then STARTTLS (port 587); refused if the server does not offer it
	SMTPTLS      = "tls"      // TLS from the first byte (port 465)
	SMTPNone     = "none"     // no encryption: a relay on the same host or network only
)

// AlertSettings configure the alerts of `acode serve` (acode.yaml section
// "alerts"). Webhook URLs, tokens, keys and passwords are never in the file:
// it names the environment variables that hold them. A sink whose variable
// is unset or empty is off; serve logs which sinks are on.
type AlertSettings struct {
	System                string        // system: the "System" field of every alert
	StatusPageURL         string        // status_page_url: the status page as people reach it; alerts link to it
	MinInterval           time.Duration // min_interval: a condition notifies at most once per this (throttling)
	ClearAfter            time.Duration // clear_after: a condition must stay clear this long before "resolved" is sent (hysteresis)
	CriticalEscalation    time.Duration // critical_escalation: a critical condition pages after this long (the seed's 30 minutes)
	SyncFailingEscalation time.Duration // sync_failing_escalation: failing syncs page after this long (the seed's 2 hours)
	Timeout               time.Duration // timeout: one request to a sink gives up after this long
	EvaluateEvery         time.Duration // evaluate_every: how often serve's leader applies the passing of time (escalation levels due, clear_after)
	Slack                 SlackSettings
	PagerDuty             PagerDutySettings
	Webhook               WebhookSettings
	Email                 EmailSettings
	Escalation            EscalationSettings // escalation: the escalation matrix (DefaultEscalation)
}

// SlackSettings: an incoming webhook, or a bot token posting with
// chat.postMessage to Channel (the seed's ACODEAlertBot).
type SlackSettings struct {
	WebhookURLEnv string // webhook_url_env: variable holding the incoming webhook URL
	TokenEnv      string // token_env: variable holding a bot token (used when the webhook variable is empty)
	Channel       string // channel: where the bot token posts
	APIURL        string // api_url: Slack's Web API base URL
	Username      string // username: name the messages show
	IconEmoji     string // icon_emoji: icon the messages show
}

// PagerDutySettings: Events API v2, for the seed's critical conditions only.
type PagerDutySettings struct {
	RoutingKeyEnv string // routing_key_env: variable holding the service's integration (routing) key
	EventsURL     string // events_url: the Events API v2 enqueue URL
}

// WebhookSettings: every alert as one JSON POST to a URL of your own.
type WebhookSettings struct {
	URLEnv string // url_env: variable holding the URL (it may carry a token)
}

// EmailSettings: the daily status e-mail to stakeholders over SMTP.
type EmailSettings struct {
	SMTPHost    string   // smtp_host: mail server; "" = no e-mail
	SMTPPort    int      // smtp_port
	TLS         string   // tls: SMTPStartTLS, SMTPTLS or SMTPNone
	UsernameEnv string   // username_env: variable holding the SMTP user; empty value = no authentication
	PasswordEnv string   // password_env: variable holding the SMTP password
	From        string   // from: sender address
	To          []string // to: recipients
	DailyAt     string   // daily_at: HH:MM the report is sent
	TimeZone    string   // time_zone: IANA zone of daily_at
}

func defaultAlertSettings() AlertSettings {
	return AlertSettings{
		System:                "ACODE Pipeline",
		MinInterval:           30 * time.Minute,
		ClearAfter:            10 * time.Minute,
		CriticalEscalation:    30 * time.Minute,
		SyncFailingEscalation: 2 * time.Hour,
		Timeout:               10 * time.Second,
		EvaluateEvery:         time.Minute,
		Slack: SlackSettings{
			WebhookURLEnv: "ACODE_SLACK_WEBHOOK_URL",
			TokenEnv:      "ACODE_SLACK_TOKEN",
			Channel:       "#data-engineering-alerts",
			APIURL:        "https://slack.com/api",
			Username:      "ACODE Redundancy Bot",
			IconEmoji:     ":gear:",
		},
		PagerDuty: PagerDutySettings{
			RoutingKeyEnv: "ACODE_PAGERDUTY_ROUTING_KEY",
			EventsURL:     "https://events.pagerduty.com/v2/enqueue",
		},
		Webhook:    WebhookSettings{URLEnv: "ACODE_ALERT_WEBHOOK_URL"},
		Escalation: DefaultEscalation(),
		Email: EmailSettings{
			SMTPPort:    587,
			TLS:         SMTPStartTLS,
			UsernameEnv: "ACODE_SMTP_USER",
			PasswordEnv: "ACODE_SMTP_PASSWORD",
			From:        "acode@localhost",
			DailyAt:     "08:00",
			TimeZone:    "UTC",
		},
	}
}

var clockTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (s *AlertSettings) decode(m *mapNode, _ func(string) string) {
	m.str("system", &s.System)
	if m.str("status_page_url", &s.StatusPageURL) && s.StatusPageURL != "" {
		m.httpURL("status_page_url", s.StatusPageURL)
	}
	m.duration("min_interval", &s.MinInterval)
	m.nonNegativeDuration("clear_after", &s.ClearAfter)
	for _, k := range []string{"critical_escalation", "sync_failing_escalation"} {
		if m.has(k) {
			m.f.c.warn(m.f.file, m.lineOf(k), m.key(k), "deprecated: read into the escalation matrix "+
				"(alerts.pagerduty is paged there when no level names it); name pagerduty in alerts.escalation's levels instead")
		}
	}
	m.nonNegativeDuration("critical_escalation", &s.CriticalEscalation)
	m.nonNegativeDuration("sync_failing_escalation", &s.SyncFailingEscalation)
	m.duration("timeout", &s.Timeout)
	m.duration("evaluate_every", &s.EvaluateEvery)
	if c := m.child("slack"); c != nil {
		c.envName("webhook_url_env", &s.Slack.WebhookURLEnv)
		c.envName("token_env", &s.Slack.TokenEnv)
		c.str("channel", &s.Slack.Channel)
		if c.str("api_url", &s.Slack.APIURL) {
			c.httpURL("api_url", s.Slack.APIURL)
		}
		c.str("username", &s.Slack.Username)
		c.str("icon_emoji", &s.Slack.IconEmoji)
		c.finish()
	}
	if c := m.child("pagerduty"); c != nil {
		c.envName("routing_key_env", &s.PagerDuty.RoutingKeyEnv)
		if c.str("events_url", &s.PagerDuty.EventsURL) {
			c.httpURL("events_url", s.PagerDuty.EventsURL)
		}
		c.finish()
	}
	if c := m.child("webhook"); c != nil {
		c.envName("url_env", &s.Webhook.URLEnv)
		c.finish()
	}
	if c := m.child("email"); c != nil {
		s.Email.decode(c)
		c.finish()
	}
	if c := m.child("escalation"); c != nil {
		s.Escalation.decode(c, s.Email.SMTPHost != "")
		c.finish()
	}
}

func (e *EmailSettings) decode(c *mapNode) {
	c.str("smtp_host", &e.SMTPHost)
	c.integer("smtp_port", &e.SMTPPort, 1, 65535)
	c.enum("tls", &e.TLS, SMTPStartTLS, SMTPTLS, SMTPNone)
	c.envName("username_env", &e.UsernameEnv)
	c.envName("password_env", &e.PasswordEnv)
	c.str("from", &e.From)
	if c.has("to") {
		e.To = c.strings("to")
	}
	if c.str("daily_at", &e.DailyAt) && !clockTime.MatchString(e.DailyAt) {
		c.errorf("daily_at", "must be a time of day HH:MM such as 08:00, got %q", e.DailyAt)
	}
	if c.str("time_zone", &e.TimeZone) {
		if _, err := time.LoadLocation(e.TimeZone); err != nil || e.TimeZone == "" {
			c.errorf("time_zone", "must be an IANA time zone such as UTC or America/Sao_Paulo, got %q", e.TimeZone)
		}
	}
	if e.SMTPHost != "" && len(e.To) == 0 {
		c.errorf("to", "smtp_host is set: list at least one recipient")
	}
}

// envName reads a key that names an environment variable.
func (m *mapNode) envName(key string, dst *string) {
	if m.str(key, dst) && !envName.MatchString(*dst) {
		m.errorf(key, "must name an environment variable (letters, digits, _), got %q", *dst)
	}
}

// httpURL reports a value that is not an absolute http(s) URL.
func (m *mapNode) httpURL(key, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		m.errorf(key, "must be an http:// or https:// URL, got %q", v)
	}
}
