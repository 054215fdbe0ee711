package alert

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// EmailSink is an escalation level's e-mail: each alert as one plain-text
// message, through the SMTP server of alerts.email, to the sink's own
// recipients. It names the ack command, since a mail cannot carry a
// button.
type EmailSink struct {
	name string
	m    *Mailer
}

var _ Sink = (*EmailSink)(nil)

// NewEmailSink returns the sink name mailing o.To.
func NewEmailSink(name string, o MailOptions) (*EmailSink, error) {
	m, err := NewMailer(o)
	if err != nil {
		return nil, err
	}
	return &EmailSink{name: name, m: m}, nil
}

// Name is the sink's name in acode.yaml.
func (e *EmailSink) Name() string { return e.name }

// Send mails a.
func (e *EmailSink) Send(ctx context.Context, a Alert) error {
	if err := e.m.Send(ctx, "[acode] "+slackTitle(a), emailBody(a)); err != nil {
		return &SendError{Sink: e.name, Err: err}
	}
	return nil
}

func emailBody(a Alert) string {
	var b strings.Builder
	if a.Message != "" {
		fmt.Fprintf(&b, "%s\n\n", a.Message)
	}
	fmt.Fprintf(&b, "Condition: %s\nSeverity: %s\nSystem: %s\nSince: %s\nTime: %s\n", a.Condition,
		strings.ToUpper(string(a.Severity)), a.System, a.Since.UTC().Format(time.RFC3339), a.Time.UTC().Format(time.RFC3339))
	if e := a.Escalation; e != nil {
		fmt.Fprintf(&b, "Escalation: level %d (%s), %s priority\n", e.Level, e.Name, e.Priority)
	}
	if a.Action != "" {
		fmt.Fprintf(&b, "Action required: %s\n", a.Action)
	}
	if a.Event != EventResolved && a.Event != EventResolve && a.Event != EventAcknowledged {
		fmt.Fprintf(&b, "\nAcknowledge to stop the escalation: acode alerts ack %s --by YOUR_NAME", a.Condition)
		if a.StatusURL != "" {
			fmt.Fprintf(&b, ", or the Acknowledge button at %s", a.StatusURL)
		}
		b.WriteString("\n")
	}
	return b.String()
}
