package alert

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

// PagerDutyOptions configure a PagerDuty Events API v2 sink.
type PagerDutyOptions struct {
	RoutingKey string // secret: the service's integration key
	EventsURL  string // e.g. https://events.pagerduty.com/v2/enqueue
	Client     *http.Client
}

// PagerDuty opens an incident on EventTrigger and resolves it on
// EventResolve, with the condition's stable dedup_key so both refer to the
// same incident and a repeated trigger does not open a second one.
type PagerDuty struct {
	o PagerDutyOptions
}

var _ Sink = (*PagerDuty)(nil)

// NewPagerDuty returns a PagerDuty sink, or an error without a routing key.
func NewPagerDuty(o PagerDutyOptions) (*PagerDuty, error) {
	if o.RoutingKey == "" {
		return nil, errors.New("pagerduty: need a routing key")
	}
	if o.EventsURL == "" {
		o.EventsURL = "https://events.pagerduty.com/v2/enqueue"
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return &PagerDuty{o: o}, nil
}

// Name is "pagerduty".
func (p *PagerDuty) Name() string { return "pagerduty" }

type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Client      string     `json:"client,omitempty"`
	ClientURL   string     `json:"client_url,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp"`
	Component     string         `json:"component"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Send posts a trigger or resolve event; other events are not pages and
// are ignored.
func (p *PagerDuty) Send(ctx context.Context, a Alert) error {
	ev := pdEvent{RoutingKey: p.o.RoutingKey, DedupKey: a.DedupKey}
	switch a.Event {
	case EventTrigger:
		ev.EventAction = "trigger"
		ev.Payload = pdPayloadFor(a)
		ev.Client = "acode"
		if a.StatusURL != "" {
			ev.ClientURL = a.StatusURL
			ev.Links = []pdLink{{Href: a.StatusURL, Text: "acode status page"}}
		}
	case EventResolve:
		ev.EventAction = "resolve"
	case EventAcknowledged:
		ev.EventAction = "acknowledge"
	default:
		return nil
	}
	_, err := postJSON(ctx, p.o.Client, p.Name(), p.o.EventsURL, nil, ev, p.o.RoutingKey)
	return err
}

func pdPayloadFor(a Alert) *pdPayload {
	summary := a.Title
	if a.Message != "" {
		summary += ": " + a.Message
	}
	if len(summary) > 1024 { // the API's limit
		summary = summary[:1021] + "..."
	}
	details := map[string]any{"condition": a.Condition, "since": a.Since.UTC().Format(time.RFC3339)}
	if a.Action != "" {
		details["action_required"] = a.Action
	}
	if a.Message != "" {
		details["message"] = a.Message
	}
	for k, v := range a.Metrics {
		details[k] = v
	}
	if e := a.Escalation; e != nil {
		details["escalation_level"] = e.Level
		details["escalation_name"] = e.Name
		details["escalation_priority"] = e.Priority
	}
	sev := "critical"
	if a.Severity == failure.Warning {
		sev = "warning"
	}
	_, group, _ := strings.Cut(a.Condition, "/")
	return &pdPayload{
		Summary: summary, Source: a.System, Severity: sev,
		Timestamp: a.Time.UTC().Format(time.RFC3339), Component: "acode", Group: group,
		Class: a.Kind, CustomDetails: details,
	}
}
