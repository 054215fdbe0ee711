// Package alert tells people when acode's state changes: Slack, PagerDuty,
// a generic JSON webhook, and a daily status e-mail. A Manager holds the
// open conditions (sync failing, a health check critical, the primary or
// both sources down) and notifies on changes only: raised, worse, resolved.
// Throttling and hysteresis keep a flapping check from spamming, pages go
// to PagerDuty only for the seed's critical conditions, and every
// notification is recorded in the state store. On top, the escalation
// matrix (Escalation) tells its levels in turn of a condition nobody
// acknowledged; the levels reached and the ack live in the store.
package alert

import (
	"context"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

// severities are the ones a condition can have (failure.OK and
// failure.Error are not a condition's).
func raisable(s failure.Severity) bool {
	return s == failure.Info || s == failure.Warning || s == failure.Critical
}

// Event says what an Alert announces.
type Event string

const (
	EventRaised   Event = "raised"   // a condition began, or got worse
	EventResolved Event = "resolved" // it cleared and stayed clear
	EventTrigger  Event = "trigger"  // a page opens (pager sinks only)
	EventResolve  Event = "resolve"  // a page closes (pager sinks only)
)

// Condition kinds. A condition key is its kind and target joined by "/",
// e.g. sync_failing/connection_mysql_s3_acode (see Key).
const (
	KindSyncFailing = "sync_failing"        // jobs of a connection end failed
	KindPrimaryDown = "primary_unavailable" // the backup took over from the primary
	KindSourcesDown = "sources_unavailable" // primary and backup both unusable: syncs halted
	KindCheck       = "check"               // a health check is warning or critical
)

// Key builds a condition key from a kind and the parts naming its target.
func Key(kind string, parts ...string) string {
	return strings.Join(append([]string{kind}, parts...), "/")
}

// kindOf returns the kind part of a condition key.
func kindOf(key string) string {
	kind, _, _ := strings.Cut(key, "/")
	return kind
}

// Details are what an alert says about its condition. None of it may hold
// a secret: it is sent, logged and stored.
type Details struct {
	Title   string         `json:"title,omitempty"`   // short; defaults to the condition key
	Message string         `json:"message,omitempty"` // what happened
	System  string         `json:"system,omitempty"`  // which part of the pipeline; defaults to the configured system
	Action  string         `json:"action,omitempty"`  // what a person should do ("Action Required")
	Metrics map[string]any `json:"metrics,omitempty"` // numbers that explain it
}

// Alert is one notification, as a Sink receives it.
type Alert struct {
	Condition string           `json:"condition"`
	Kind      string           `json:"kind"`
	Severity  failure.Severity `json:"severity"`
	Event     Event            `json:"event"`
	Details                    // title, message, system, action, metrics
	Time      time.Time        `json:"time"`
	Since     time.Time        `json:"since"`     // when the condition began
	DedupKey  string           `json:"dedup_key"` // stable per condition (PagerDuty's dedup_key)
	StatusURL string           `json:"status_url,omitempty"`
	// Escalation is set on the notifications of the escalation matrix.
	Escalation *EscalationInfo `json:"escalation,omitempty"`
	// AcknowledgedBy is set on EventAcknowledged.
	AcknowledgedBy string `json:"acknowledged_by,omitempty"`
}

// Sink delivers alerts somewhere. Send must honour ctx and must not put
// its endpoint's URL, token or key in the error it returns: errors are
// logged and stored.
type Sink interface {
	Name() string
	Send(ctx context.Context, a Alert) error
}

// DedupKey is the PagerDuty dedup_key of a condition: the same for every
// trigger and resolve of it, across restarts.
func DedupKey(condition string) string { return "acode/" + condition }
