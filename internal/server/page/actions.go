package page

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/acode-dev/acode/internal/failover"
)

// actions are the manual switches the page's buttons call, as JSON
// endpoints any client with the API credentials may use too.
type actions struct{ page *Page }

type switchRequest struct {
	Reason string `json:"reason"`
}

func (a *actions) failover(w http.ResponseWriter, r *http.Request) {
	a.switchPair(w, r, func(ctx context.Context, m *failover.Machine, who, reason string) (failover.Decision, error) {
		return m.Failover(ctx, who, reason)
	})
}

func (a *actions) failback(w http.ResponseWriter, r *http.Request) {
	a.switchPair(w, r, func(ctx context.Context, m *failover.Machine, who, reason string) (failover.Decision, error) {
		return m.Failback(ctx, who, reason)
	})
}

type switchFunc func(ctx context.Context, m *failover.Machine, who, reason string) (failover.Decision, error)

// switchPair runs one manual step on the pair named in the path, recorded
// as done by "api:<user>" with the body's reason, and answers the decision.
func (a *actions) switchPair(w http.ResponseWriter, r *http.Request, do switchFunc) {
	name := r.PathValue("pair")
	pr, ok := a.page.pair(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s: %v (pairs: %s)", name, errNoPair, a.page.pairNames()))
		return
	}
	var req switchRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, `body: want {"reason": "..."}: `+err.Error())
			return
		}
	}
	who := "api"
	if user, _, ok := r.BasicAuth(); ok && user != "" {
		who = "api:" + user
	}
	m := failover.New(a.page.opts.State, pr, a.page.opts.Policy)
	d, err := do(r.Context(), m, who, req.Reason)
	if err != nil {
		a.page.opts.Log.Error("manual switch", "pair", name, "err", err)
		writeError(w, http.StatusInternalServerError, "the switch could not be recorded; see the service log")
		return
	}
	a.page.opts.Log.Info("manual switch", "pair", name, "state", d.State, "who", who, "reason", d.Reason)
	if a.page.opts.OnSwitch != nil {
		a.page.opts.OnSwitch(context.WithoutCancel(r.Context()), d)
	}
	writeJSON(w, http.StatusOK, d)
}

func (p *Page) pair(name string) (failover.Pair, bool) {
	for _, pr := range p.opts.Pairs {
		if pr.Primary == name || pr.Backup == name {
			return pr, true
		}
	}
	return failover.Pair{}, false
}

func (p *Page) pairNames() string {
	s := ""
	for i, pr := range p.opts.Pairs {
		if i > 0 {
			s += ", "
		}
		s += pr.Primary
	}
	if s == "" {
		s = "none"
	}
	return s
}

type apiError struct {
	Status  int    `json:"status"`
	Title   string `json:"title"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// writeError answers in the API's error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Status: status, Title: http.StatusText(status), Message: msg})
}
