package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// ackRequest is the optional body of an acknowledgement: who, when the
// API user is shared (the status page asks).
type ackRequest struct {
	By     string `json:"by"`
	Reason string `json:"reason"` // the status page's prompt sends its answer as reason
}

type ackView struct {
	Condition       string    `json:"condition"`
	Severity        string    `json:"severity"`
	AcknowledgedAt  time.Time `json:"acknowledged_at"`
	AcknowledgedBy  string    `json:"acknowledged_by"`
	EscalationLevel int       `json:"escalation_level"`
}

// handleAlert takes POST /api/acode/alerts/{key}/ack. A condition key holds
// "/" (check/replication_lag/pair): it may be sent as is or escaped. The
// ack lives in the state store, so the leader's alert manager sees it
// whichever replica took it, and stops escalating the condition.
func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutSuffix(r.PathValue("rest"), "/ack")
	if !ok || key == "" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint POST %s: use /api/acode/alerts/{condition}/ack", r.URL.Path))
		return
	}
	var req ackRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, `body: want {"by": "name"}: `+err.Error())
			return
		}
	}
	who := s.apiUser(r)
	if by := strings.TrimSpace(req.By + " " + req.Reason); by != "" {
		who = by + " (" + who + ")"
	}
	c, err := s.state.Acknowledge(r.Context(), key, who, "api", s.now())
	if errors.Is(err, state.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no open alert %q (GET / lists the open alerts)", key))
		return
	}
	if err != nil && c.AckedAt == nil {
		s.log.Error("acknowledge alert", "condition", key, "err", err)
		writeError(w, http.StatusInternalServerError, "the acknowledgement could not be recorded; see the service log")
		return
	}
	if err != nil {
		s.log.Warn("record acknowledgement", "condition", key, "err", err)
	}
	s.log.Info("alert acknowledged", "condition", key, "by", c.AckedBy)
	writeJSON(w, http.StatusOK, ackView{Condition: c.Key, Severity: c.Severity, AcknowledgedAt: *c.AckedAt,
		AcknowledgedBy: c.AckedBy, EscalationLevel: c.EscalationLevel})
}

// apiUser names the caller for the records: "api:<user>" with basic auth,
// "api:token" with a bearer token, "api" without auth.
func (s *Server) apiUser(r *http.Request) string {
	if user, _, ok := r.BasicAuth(); ok && user != "" {
		return "api:" + user
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return "api:token"
	}
	return "api"
}

// alertView is one open alert condition in GET /api/acode/alerts.
type alertView struct {
	Condition          string     `json:"condition"`
	Kind               string     `json:"kind"`
	Severity           string     `json:"severity"`
	Title              string     `json:"title,omitempty"`
	Message            string     `json:"message,omitempty"`
	Action             string     `json:"action,omitempty"`
	Since              time.Time  `json:"since"`
	Clearing           bool       `json:"clearing"`
	Paged              bool       `json:"paged"`
	EscalationPriority string     `json:"escalation_priority,omitempty"`
	EscalationLevel    int        `json:"escalation_level"`
	EscalatedAt        *time.Time `json:"escalated_at,omitempty"`
	AcknowledgedAt     *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy     string     `json:"acknowledged_by,omitempty"`
	AckURL             string     `json:"ack_url"`
}

// handleListAlerts answers GET /api/acode/alerts: the conditions the alert
// manager holds open (or is clearing), with their escalation and ack, so a
// script can find the key to acknowledge.
func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) {
	conds, err := s.state.AlertConditions(r.Context())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	out := make([]alertView, 0, len(conds))
	for _, c := range conds {
		var d struct{ Title, Message, Action string }
		_ = json.Unmarshal([]byte(c.Details), &d) // unreadable details show the key only
		kind, _, _ := strings.Cut(c.Key, "/")
		out = append(out, alertView{Condition: c.Key, Kind: kind, Severity: c.Severity, Title: d.Title, Message: d.Message,
			Action: d.Action, Since: c.Since, Clearing: c.ClearedAt != nil, Paged: c.Paged,
			EscalationPriority: c.EscalationPriority, EscalationLevel: c.EscalationLevel, EscalatedAt: c.EscalatedAt,
			AcknowledgedAt: c.AckedAt, AcknowledgedBy: c.AckedBy, AckURL: "/api/acode/alerts/" + c.Key + "/ack"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}
