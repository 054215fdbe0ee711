package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/state"
)

// PairSwitches are the manual failover and failback of the pairs, as JSON
// endpoints: the status page's buttons call them, and so may any client
// with the API credentials.
type PairSwitches struct {
	State  *state.Store
	Pairs  []failover.Pair
	Policy failover.Policy
	// OnSwitch, when set, hears of every switch made here (e.g. to alert
	// on it); the decision's Transition is nil when the pair was already
	// there.
	OnSwitch func(ctx context.Context, d failover.Decision)
	Log      *slog.Logger
}

// HandlePairSwitches adds POST /api/acode/pairs/{pair}/failover and
// /failback, behind the API credentials.
func (s *Server) HandlePairSwitches(ps PairSwitches) {
	if ps.Log == nil {
		ps.Log = s.log
	}
	a := &actions{ps}
	s.Handle("POST /api/acode/pairs/{pair}/failover", s.RequireAuth(a.failover))
	s.Handle("POST /api/acode/pairs/{pair}/failback", s.RequireAuth(a.failback))
}

// HandlePage serves page at GET / and assets under assetPrefix; the page
// needs the API credentials unless public: it names hosts, tables and
// errors, which need not be shown to whoever reaches the port.
func (s *Server) HandlePage(page http.Handler, assetPrefix string, assets http.Handler, public bool) {
	h := page.ServeHTTP
	if !public {
		h = s.RequireAuth(h)
	}
	s.Handle("GET /{$}", http.HandlerFunc(h))
	s.Handle("GET "+assetPrefix, assets)
}

var errNoPair = errors.New("no such failover pair")

type actions struct{ ps PairSwitches }

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
	pr, ok := a.ps.pair(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s: %v (pairs: %s)", name, errNoPair, a.ps.pairNames()))
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
	m := failover.New(a.ps.State, pr, a.ps.Policy)
	d, err := do(r.Context(), m, who, req.Reason)
	if err != nil {
		a.ps.Log.Error("manual switch", "pair", name, "err", err)
		writeError(w, http.StatusInternalServerError, "the switch could not be recorded; see the service log")
		return
	}
	a.ps.Log.Info("manual switch", "pair", name, "state", d.State, "who", who, "reason", d.Reason)
	if a.ps.OnSwitch != nil {
		a.ps.OnSwitch(context.WithoutCancel(r.Context()), d)
	}
	writeJSON(w, http.StatusOK, d)
}

func (ps PairSwitches) pair(name string) (failover.Pair, bool) {
	for _, pr := range ps.Pairs {
		if pr.Primary == name || pr.Backup == name {
			return pr, true
		}
	}
	return failover.Pair{}, false
}

func (ps PairSwitches) pairNames() string {
	s := ""
	for i, pr := range ps.Pairs {
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
