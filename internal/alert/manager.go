package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// Config configures a Manager. Zero durations mean "at once": no
// throttling, no hysteresis, pages without delay.
type Config struct {
	Store  *state.Store // required: conditions and the alert log live there
	Chat   []Sink       // told every raised and resolved condition (Slack, webhook)
	Pagers []Sink       // pagers (PagerDuty): paged through the matrix, where no level names them at the legacy times (legacyPagers)

	System    string // default "System" of an alert
	StatusURL string // linked from alerts

	MinInterval           time.Duration // a condition notifies at most once per this
	ClearAfter            time.Duration // a cleared condition resolves after staying clear this long
	CriticalEscalation    time.Duration // deprecated: a critical condition pages Pagers after this long, through the matrix
	SyncFailingEscalation time.Duration // deprecated: sync_failing pages Pagers after this long, whatever its severity, through the matrix
	Timeout               time.Duration // per send; 10s when 0
	EvaluateEvery         time.Duration // how often Start's loop re-evaluates timers; 1m when 0
	// Escalation, when set, is the escalation matrix: levels told in
	// turn of a condition nobody acknowledged.
	Escalation *Escalation
	// Lead, when set, says whether this process leads the cluster of
	// `acode serve` replicas; the loop re-evaluates timers only then, so
	// one replica sends the escalations and reminders.
	Lead func() bool

	Now func() time.Time // the clock; time.Now when nil
	Log *slog.Logger
}

// Manager holds the open conditions and notifies the sinks when they
// change. Its methods are safe for concurrent use; sends happen while the
// manager's lock is held, so notifications about one condition never
// overtake each other.
type Manager struct {
	cfg Config
	now func() time.Time
	log *slog.Logger

	sent   *prometheus.CounterVec
	failed *prometheus.CounterVec

	mu    sync.Mutex
	conds map[string]*condition

	queue  chan SyncOutcome
	loopMu sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// condition is one held condition: its stored state and what it says.
type condition struct {
	st         state.AlertCondition
	d          Details
	suppressed bool // a throttled notification was already recorded this episode
}

// New returns a Manager with the conditions left open by the previous
// process, so a restart neither repeats an alert nor forgets to resolve it.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("alert manager: a state store is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.EvaluateEvery <= 0 {
		cfg.EvaluateEvery = time.Minute
	}
	cfg.Escalation = legacyPagers(cfg.Escalation, cfg.Pagers, cfg.CriticalEscalation, cfg.SyncFailingEscalation)
	m := &Manager{
		cfg: cfg, now: cfg.Now, log: cfg.Log,
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "acode", Name: "alerts_total",
			Help: "Alert notifications delivered, by sink and severity of the condition.",
		}, []string{"sink", "severity"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "acode", Name: "alert_send_failures_total",
			Help: "Alert notifications a sink failed to take, by sink.",
		}, []string{"sink"}),
		conds: map[string]*condition{},
		queue: make(chan SyncOutcome, 64),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if err := m.Reload(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Reload replaces the held conditions with those in the store. A replica
// that becomes the cluster's leader calls it first: the previous leader
// raised, sent and resolved conditions since this manager last read them,
// and acting on stale ones would repeat or lose an alert.
func (m *Manager) Reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reload(ctx)
}

// reload is Reload with m.mu held. A throttle already recorded for a
// condition stays recorded.
func (m *Manager) reload(ctx context.Context) error {
	stored, err := m.cfg.Store.AlertConditions(ctx)
	if err != nil {
		return fmt.Errorf("alert manager: %w", err)
	}
	conds := make(map[string]*condition, len(stored))
	for _, st := range stored {
		c := m.fromStore(st)
		if old, ok := m.conds[st.Key]; ok {
			c.suppressed = old.suppressed
		}
		conds[st.Key] = c
	}
	m.conds = conds
	return nil
}

func (m *Manager) fromStore(st state.AlertCondition) *condition {
	c := &condition{st: st}
	if err := json.Unmarshal([]byte(st.Details), &c.d); err != nil {
		m.log.Warn("alert condition with unreadable details", "condition", st.Key, "err", err)
	}
	return c
}

// refresh re-reads condition key from the store before it changes: with
// several replicas another one (the leader escalating it, a replica whose
// job raised it) may have moved it on, and acting on the held copy would
// repeat a notification or undo a step. The caller holds m.mu.
func (m *Manager) refresh(ctx context.Context, key string) {
	st, err := m.cfg.Store.AlertCondition(ctx, key)
	switch {
	case errors.Is(err, state.ErrNotFound):
		delete(m.conds, key) // resolved elsewhere, or never raised
	case err != nil:
		m.log.Warn("re-read alert condition; using the held one", "condition", key, "err", err)
	default:
		c := m.fromStore(st)
		if old, ok := m.conds[key]; ok {
			c.suppressed = old.suppressed
		}
		m.conds[key] = c
	}
}

// Collectors are the manager's metrics (acode_alerts_total{sink,severity},
// acode_alert_send_failures_total{sink}), for the server's registry.
func (m *Manager) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.sent, m.failed}
}

// Raise reports that condition key holds at severity. Calling it again
// while nothing changed sends nothing; a worse severity notifies at once; a
// condition raised again within ClearAfter of being cleared simply stays
// open (hysteresis).
func (m *Manager) Raise(ctx context.Context, key string, sev failure.Severity, d Details) error {
	if key == "" || !raisable(sev) {
		return fmt.Errorf("raise %q: need a condition key and a severity info, warning or critical, got %q", key, sev)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refresh(ctx, key)
	now := m.now()
	c, ok := m.conds[key]
	if !ok {
		c = &condition{st: state.AlertCondition{Key: key, Since: now}}
		c.st.LastSentAt = m.lastSent(ctx, key)
		m.conds[key] = c
	}
	c.st.ClearedAt = nil
	if c.st.Severity != string(sev) || c.st.CriticalSince == nil && sev == failure.Critical {
		c.st.Severity = string(sev)
		c.st.CriticalSince = nil
		if sev == failure.Critical {
			c.st.CriticalSince = &now
		}
	}
	if d.Title == "" {
		d.Title = c.d.Title
	}
	c.d = d
	return m.evaluate(ctx, c, now)
}

// Clear reports that condition key no longer holds. Unknown keys are
// ignored, so a check that is fine can call Clear on every run. d, when it
// has a message, is what the "resolved" notification says.
func (m *Manager) Clear(ctx context.Context, key string, d Details) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refresh(ctx, key)
	c, ok := m.conds[key]
	if !ok {
		return nil
	}
	now := m.now()
	if c.st.ClearedAt == nil {
		c.st.ClearedAt = &now
	}
	if d.Message != "" {
		if d.Title == "" {
			d.Title = c.d.Title
		}
		c.d = d
	}
	return m.evaluate(ctx, c, now)
}

// Evaluate applies the passing of time to every condition: escalation to a
// page or the matrix's next level, the end of a throttle window, a cleared
// condition resolving, an ack passed on. It starts from the store, where
// other replicas' raises and acks are. Start calls it every EvaluateEvery
// on the leader; tests call it after moving the clock.
func (m *Manager) Evaluate(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// What other replicas raised, escalated or resolved since is in the
	// store: start from it.
	if err := m.reload(ctx); err != nil {
		return err
	}
	now := m.now()
	keys := make([]string, 0, len(m.conds))
	for k := range m.conds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		if err := m.evaluate(ctx, m.conds[k], now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// OpenCondition is a held condition, for status pages.
type OpenCondition struct {
	Key      string
	Kind     string
	Severity failure.Severity
	Since    time.Time
	Clearing bool // cleared, waiting out ClearAfter before it resolves
	Paged    bool
	Details
}

// Open returns the held conditions, worst first, then oldest.
func (m *Manager) Open() []OpenCondition {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]OpenCondition, 0, len(m.conds))
	for _, c := range m.conds {
		out = append(out, OpenCondition{Key: c.st.Key, Kind: kindOf(c.st.Key), Severity: failure.Severity(c.st.Severity),
			Since: c.st.Since, Clearing: c.st.ClearedAt != nil, Paged: c.st.Paged, Details: c.d})
	}
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := out[i].Severity.Rank(), out[j].Severity.Rank(); ri != rj {
			return ri > rj
		}
		return out[i].Since.Before(out[j].Since)
	})
	return out
}
