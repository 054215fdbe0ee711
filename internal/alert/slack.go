package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

// SlackOptions configure a Slack sink: an incoming webhook URL, or a bot
// token posting to Channel through chat.postMessage (the seed's
// ACODEAlertBot). The webhook wins when both are set.
type SlackOptions struct {
	WebhookURL string // secret
	Token      string // secret
	Channel    string
	APIURL     string // Slack Web API base, e.g. https://slack.com/api
	Username   string
	IconEmoji  string
	Client     *http.Client
}

// Slack posts alerts as message attachments: colour by severity, title,
// system, timestamp, action required, metrics, and buttons to the status
// page.
type Slack struct {
	o SlackOptions
}

var _ Sink = (*Slack)(nil)

// NewSlack returns a Slack sink, or an error when neither a webhook URL nor
// a token and channel are given.
func NewSlack(o SlackOptions) (*Slack, error) {
	if o.WebhookURL == "" && (o.Token == "" || o.Channel == "") {
		return nil, errors.New("slack: need a webhook URL, or a bot token and a channel")
	}
	if o.APIURL == "" {
		o.APIURL = "https://slack.com/api"
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return &Slack{o: o}, nil
}

// Name is "slack".
func (s *Slack) Name() string { return "slack" }

// Send posts a as one attachment.
func (s *Slack) Send(ctx context.Context, a Alert) error {
	msg := slackMessage{
		Text:        slackFallback(a),
		Username:    s.o.Username,
		IconEmoji:   s.o.IconEmoji,
		Attachments: []slackAttachment{slackAttachmentFor(a)},
	}
	secrets := []string{s.o.WebhookURL, s.o.Token}
	if s.o.WebhookURL != "" {
		// Incoming webhooks answer 200 "ok", or an error status with a reason.
		_, err := postJSON(ctx, s.o.Client, s.Name(), s.o.WebhookURL, nil, msg, secrets...)
		return err
	}
	msg.Channel = s.o.Channel
	header := http.Header{"Authorization": {"Bearer " + s.o.Token}}
	body, err := postJSON(ctx, s.o.Client, s.Name(), strings.TrimRight(s.o.APIURL, "/")+"/chat.postMessage", header, msg, secrets...)
	if err != nil {
		return err
	}
	// The Web API answers 200 with {"ok": false, "error": "..."} on failure.
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return &SendError{Sink: s.Name(), Body: "unreadable answer from chat.postMessage"}
	}
	if !res.OK {
		return &SendError{Sink: s.Name(), Body: "chat.postMessage: " + scrub(shorten(res.Error), secrets)}
	}
	return nil
}

type slackMessage struct {
	Channel     string            `json:"channel,omitempty"`
	Text        string            `json:"text"`
	Username    string            `json:"username,omitempty"`
	IconEmoji   string            `json:"icon_emoji,omitempty"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Fallback string        `json:"fallback"`
	Color    string        `json:"color"`
	Title    string        `json:"title"`
	Text     string        `json:"text"`
	Fields   []slackField  `json:"fields"`
	Footer   string        `json:"footer"`
	Ts       int64         `json:"ts"`
	Actions  []slackAction `json:"actions,omitempty"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

type slackAction struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	URL   string `json:"url"`
	Style string `json:"style,omitempty"`
}

// slackColor is the seed's colour map; a resolved condition is good news.
func slackColor(a Alert) string {
	if a.Event == EventResolved {
		return "good"
	}
	switch a.Severity {
	case failure.Critical:
		return "danger"
	case failure.Info:
		return "good"
	}
	return "warning"
}

func slackTitle(a Alert) string {
	if a.Event == EventResolved {
		return "✅ Resolved: " + a.Title
	}
	icon := map[failure.Severity]string{failure.Critical: "🚨", failure.Warning: "⚠️", failure.Info: "ℹ️"}[a.Severity]
	if a.Event == EventAcknowledged {
		return fmt.Sprintf("✋ Acknowledged by %s: %s - %s", a.AcknowledgedBy, a.Title, strings.ToUpper(string(a.Severity)))
	}
	if e := a.Escalation; e != nil {
		return fmt.Sprintf("⏫ Escalated to %s (level %d, %s priority): %s - %s", e.Name, e.Level, e.Priority, a.Title, strings.ToUpper(string(a.Severity)))
	}
	return fmt.Sprintf("%s %s - %s", icon, a.Title, strings.ToUpper(string(a.Severity)))
}

func slackFallback(a Alert) string {
	if a.Message == "" {
		return slackTitle(a)
	}
	return slackTitle(a) + ": " + a.Message
}

func slackAttachmentFor(a Alert) slackAttachment {
	action := a.Action
	if action == "" {
		action = "Monitor situation"
	}
	att := slackAttachment{
		Fallback: slackFallback(a),
		Color:    slackColor(a),
		Title:    slackTitle(a),
		Text:     a.Message,
		Fields: []slackField{
			{Title: "System", Value: a.System, Short: true},
			{Title: "Timestamp", Value: a.Time.UTC().Format(time.RFC3339), Short: true},
			{Title: "Condition", Value: a.Condition, Short: true},
			{Title: "Since", Value: a.Since.UTC().Format(time.RFC3339), Short: true},
			{Title: "Action Required", Value: action, Short: false},
		},
		Footer: "ACODE Redundancy System",
		Ts:     a.Time.Unix(),
	}
	if len(a.Metrics) > 0 {
		m, err := json.MarshalIndent(a.Metrics, "", "  ")
		if err == nil {
			att.Fields = append(att.Fields, slackField{Title: "Metrics", Value: "```" + string(m) + "```"})
		}
	}
	if a.StatusURL != "" {
		att.Actions = append(att.Actions, slackAction{Type: "button", Text: "📊 Status page", URL: a.StatusURL})
		if a.Severity == failure.Critical && a.Event != EventResolved {
			att.Actions = append(att.Actions, slackAction{Type: "button", Text: "🚨 Failover controls",
				URL: strings.TrimRight(a.StatusURL, "#") + "#failover", Style: "danger"})
		}
	}
	return att
}
