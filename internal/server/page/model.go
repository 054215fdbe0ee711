package page

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/acode-dev/acode/internal/cluster"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// view is everything the template shows, computed once per request.
type view struct {
	Now         time.Time
	Overall     string // worst check status: ok, warning, critical; "unknown" before the first check
	Pairs       []pairView
	Checks      []checkView
	Jobs        []jobRow
	Strips      []stripView
	Days        []dayHead
	Quality     []QualityScore
	QualityOn   bool
	Alerts      []alertView
	Connections []connView
	Replicas    []cluster.Member // nil when the page was given no Replicas
}

type pairView struct {
	Name, Primary, Backup       string
	PrimarySource, BackupSource string
	State                       string // primary_active, backup_active, halted
	Active                      string // "primary", "backup" or "" when halted
	ActiveSource                string
	Since                       time.Time
	Reason, Who                 string
	Manual                      bool
	Failures                    int
	LastClass, LastError        string
	RetryAt                     *time.Time
	BackupLine                  string // the backup's readiness, one line
	BackupOK                    bool
	ReconcileDays               []string // UTC days the backup covered, due for `acode reconcile`
	Transitions                 []state.FailoverTransition
	CanFailover, CanFailback    bool
	FailoverURL, FailbackURL    string
	// Stalled: the state names a source, but the machine's decision now
	// is to sync nothing (both unavailable, the primary in backoff);
	// Blocked says why. A halted pair says so through State.
	Stalled bool
	Blocked string
}

type checkView struct {
	state.HealthRecord
	Stale bool // older than two health intervals: the loop may have stopped
}

type jobRow struct {
	state.Job
	Duration time.Duration
}

type connView struct {
	Name, Role, SyncURL string
	Running             bool
}

type alertView struct {
	Key, Severity          string
	Title, Message, Action string // from the condition's details (package alert's Details)
	Since                  time.Time
	Clearing               bool
	Paged                  bool
	// The escalation matrix: the priority, the levels told so far, and
	// the ack that stopped it (AckURL is the API endpoint the button calls).
	Priority        string
	Escalated       int
	AckedBy, AckURL string
	AckedAt         *time.Time
}

// QualityScore is the data-quality score of one stream's partition.
type QualityScore struct {
	Connection, Stream, Partition string
	Score, Threshold              float64
	Passed                        bool
	Errors, Warnings              int    // failing rules by severity
	Status                        string // committed or quarantined
	JobID                         int64
	At                            time.Time
}

// QualitySource returns the newest quality scores, one per stream. The
// default reads the state store's quality reports.
type QualitySource func(ctx context.Context) ([]QualityScore, error)

// recentJobs is how many jobs the page lists.
const recentJobs = 15

func (p *Page) build(ctx context.Context) (*view, error) {
	now := p.opts.Now().UTC()
	v := &view{Now: now, QualityOn: p.opts.Project.Settings.Quality.Enabled}
	var err error
	if v.Pairs, err = p.pairs(ctx); err != nil {
		return nil, err
	}
	if v.Checks, v.Overall, err = p.checks(ctx, now); err != nil {
		return nil, err
	}
	if v.Jobs, err = p.jobs(ctx, now); err != nil {
		return nil, err
	}
	v.Days = dayHeads(now, p.opts.Days)
	if v.Strips, err = p.strips(ctx, now); err != nil {
		return nil, err
	}
	if v.QualityOn {
		if v.Quality, err = p.opts.Quality(ctx); err != nil {
			return nil, fmt.Errorf("quality scores: %w", err)
		}
	}
	if v.Alerts, err = p.alerts(ctx); err != nil {
		return nil, err
	}
	v.Connections = p.connections(v.Jobs)
	if p.opts.Replicas != nil {
		if v.Replicas, err = p.opts.Replicas(ctx); err != nil {
			return nil, fmt.Errorf("replicas: %w", err)
		}
	}
	return v, nil
}

func (p *Page) pairs(ctx context.Context) ([]pairView, error) {
	all, err := failover.Statuses(ctx, p.opts.State, p.opts.Pairs, p.opts.Policy, failover.StatusOptions{Transitions: 5})
	if err != nil {
		return nil, err
	}
	out := make([]pairView, 0, len(all))
	for _, ps := range all {
		out = append(out, pairViewOf(ps))
	}
	return out, nil
}

// pairViewOf is the page's card of a pair.
func pairViewOf(ps failover.Status) pairView {
	pr, st, cur := ps.Pair, ps.State, ps.Decision
	pv := pairView{Name: pr.Primary, Primary: pr.Primary, Backup: pr.Backup, PrimarySource: pr.PrimarySource,
		BackupSource: pr.BackupSource, State: st.State, Since: st.Since, Reason: st.Reason, Who: st.Who,
		Manual: st.Manual, Failures: st.Failures, LastClass: st.LastClass, LastError: st.LastError,
		RetryAt: st.RetryAt, ReconcileDays: utcDays(st.ReconcileFrom, st.ReconcileTo), Transitions: ps.Transitions,
		FailoverURL: "/api/acode/pairs/" + pr.Primary + "/failover",
		FailbackURL: "/api/acode/pairs/" + pr.Primary + "/failback"}
	switch failover.State(st.State) {
	case failover.PrimaryActive:
		pv.Active, pv.ActiveSource, pv.CanFailover = "primary", pr.PrimarySource, true
	case failover.BackupActive:
		pv.Active, pv.ActiveSource, pv.CanFailback = "backup", pr.BackupSource, true
	default:
		pv.CanFailover, pv.CanFailback = true, true
	}
	pv.BackupLine, pv.BackupOK = backupLine(st)
	if cur.Sync == "" && cur.State != failover.Halted {
		pv.Active, pv.ActiveSource, pv.Stalled, pv.Blocked = "", "", true, cur.Reason
	}
	return pv
}

// backupLine says in one line whether the backup could take over now.
func backupLine(st state.FailoverState) (string, bool) {
	switch {
	case st.BackupUnreachable != "":
		return "unreachable: " + st.BackupUnreachable, false
	case st.BackupReplicating == nil:
		return "replication not measured yet", false
	case !*st.BackupReplicating:
		return "not usable: " + st.BackupProblem, false
	case st.BackupLagSeconds != nil:
		return fmt.Sprintf("replicating, %s behind", time.Duration(*st.BackupLagSeconds)*time.Second), true
	}
	return "replicating", true
}

func (p *Page) checks(ctx context.Context, now time.Time) ([]checkView, string, error) {
	recs, err := p.opts.State.LatestHealth(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("latest health: %w", err)
	}
	stale := 2 * p.opts.Project.Settings.Health.Interval
	overall := "unknown" // ranks below every severity
	worse := func(a, b string) bool { return failure.Severity(a).Worse(failure.Severity(b)) }
	out := make([]checkView, 0, len(recs))
	for _, r := range recs {
		out = append(out, checkView{HealthRecord: r, Stale: stale > 0 && now.Sub(r.Time) > stale})
		if worse(r.Status, overall) {
			overall = r.Status
		}
	}
	// Worst first, so the red ones are on top.
	sort.SliceStable(out, func(i, j int) bool { return worse(out[i].Status, out[j].Status) })
	return out, overall, nil
}

func (p *Page) jobs(ctx context.Context, now time.Time) ([]jobRow, error) {
	list, err := p.opts.State.ListJobs(ctx, state.JobFilter{Limit: recentJobs})
	if err != nil {
		return nil, fmt.Errorf("recent jobs: %w", err)
	}
	out := make([]jobRow, 0, len(list))
	for _, j := range list {
		start := j.CreatedAt
		if j.StartedAt != nil {
			start = *j.StartedAt
		}
		end := now
		if j.EndedAt != nil {
			end = *j.EndedAt
		}
		out = append(out, jobRow{Job: j, Duration: end.Sub(start).Round(time.Second)})
	}
	return out, nil
}

// alerts are the conditions the alert manager holds open (or is clearing).
func (p *Page) alerts(ctx context.Context) ([]alertView, error) {
	conds, err := p.opts.State.AlertConditions(ctx)
	if err != nil {
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	out := make([]alertView, 0, len(conds))
	for _, c := range conds {
		d := details(c.Details)
		out = append(out, alertView{Key: c.Key, Severity: c.Severity, Title: d.Title, Message: d.Message, Action: d.Action,
			Since: c.Since, Clearing: c.ClearedAt != nil, Paged: c.Paged,
			Priority: c.EscalationPriority, Escalated: c.EscalationLevel, AckedBy: c.AckedBy, AckedAt: c.AckedAt,
			AckURL: "/api/acode/alerts/" + c.Key + "/ack"})
	}
	critical := func(v alertView) bool { return failure.Severity(v.Severity) == failure.Critical }
	sort.SliceStable(out, func(i, j int) bool { return critical(out[i]) && !critical(out[j]) })
	return out, nil
}

// alertDetails is the human text of an alert condition's details JSON.
type alertDetails struct {
	Title   string `json:"title"`
	Message string `json:"message"`
	Action  string `json:"action"`
}

// details reads what it can; details that do not parse show the key only.
func details(js string) alertDetails {
	var d alertDetails
	_ = json.Unmarshal([]byte(js), &d)
	return d
}

func (p *Page) connections(jobs []jobRow) []connView {
	roles := map[string]string{}
	for _, pr := range p.opts.Pairs {
		roles[pr.Primary], roles[pr.Backup] = "primary", "backup"
	}
	running := map[string]bool{}
	for _, j := range jobs {
		if !j.Status.Terminal() {
			running[j.Connection] = true
		}
	}
	var out []connView
	for _, name := range p.opts.Project.ConnectionNames() {
		out = append(out, connView{Name: name, Role: roles[name], Running: running[name],
			SyncURL: "/api/acode/connections/" + name + "/sync"})
	}
	return out
}
