package alert

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// Report is the status summary of a period for the daily e-mail: jobs,
// health checks, failovers, quality scores and alerts, from the state
// store.
type Report struct {
	System    string
	StatusURL string
	From, To  time.Time

	Connections []ConnectionSummary
	Checks      []CheckSummary
	Failovers   []state.FailoverTransition
	Quality     []state.QualityReport
	Alerts      []state.AlertRecord // delivered notifications, oldest first
	Open        []OpenCondition     // conditions open when the report was made
}

// ConnectionSummary counts one connection's jobs in the period.
type ConnectionSummary struct {
	Connection                   string
	Succeeded, Failed, Cancelled int
	Running                      int
	SucceededOnBackup            int
	Rows, Bytes                  int64
	LastStatus                   state.JobStatus
	LastEnded                    *time.Time
	LastError                    string
}

// CheckSummary is one health check on one target in the period.
type CheckSummary struct {
	Check, Target string
	Runs          int
	Warning       int
	Critical      int
	Latest        string // status of the newest run
	LatestMessage string
	LatestAt      time.Time
}

// Attention reports whether a person should look: a failed job, a check
// ending the period not ok, a failover, a quarantined or erroring stream,
// or an open condition.
func (r Report) Attention() []string {
	var out []string
	for _, c := range r.Connections {
		if c.Failed > 0 {
			out = append(out, fmt.Sprintf("%d failed job(s) of %s", c.Failed, c.Connection))
		}
	}
	for _, c := range r.Checks {
		if c.Latest != "ok" {
			out = append(out, fmt.Sprintf("%s on %s is %s", c.Check, c.Target, c.Latest))
		}
	}
	if n := len(r.Failovers); n > 0 {
		out = append(out, fmt.Sprintf("%d failover transition(s)", n))
	}
	for _, q := range r.Quality {
		if q.Errors > 0 || q.Status == "quarantined" {
			out = append(out, fmt.Sprintf("quality of %s %s (%s): score %.1f, %d error(s), %s", q.Connection, q.Stream, q.Partition, q.Score, q.Errors, q.Status))
		}
	}
	for _, o := range r.Open {
		out = append(out, fmt.Sprintf("open %s alert: %s", o.Severity, o.Title))
	}
	return out
}

// Subject is the e-mail's subject line.
func (r Report) Subject() string {
	state := "all good"
	if n := len(r.Attention()); n > 0 {
		state = fmt.Sprintf("%d item(s) need attention", n)
	}
	return fmt.Sprintf("[acode] %s daily status %s: %s", r.System, r.To.UTC().Format("2006-01-02"), state)
}

// BuildReport summarises the period (to-window, to] from the store; open
// may be nil.
func BuildReport(ctx context.Context, st *state.Store, to time.Time, window time.Duration, open []OpenCondition) (Report, error) {
	from := to.Add(-window)
	r := Report{From: from, To: to, Open: open}
	jobs, err := st.JobsSince(ctx, from)
	if err != nil {
		return Report{}, err
	}
	r.Connections = summariseJobs(jobs)
	health, err := st.HealthSince(ctx, from)
	if err != nil {
		return Report{}, err
	}
	r.Checks = summariseChecks(health)
	if r.Failovers, err = st.TransitionsSince(ctx, from); err != nil {
		return Report{}, err
	}
	if r.Quality, err = st.QualitySince(ctx, from); err != nil {
		return Report{}, err
	}
	alerts, err := st.Alerts(ctx, state.AlertFilter{Since: from})
	if err != nil {
		return Report{}, err
	}
	for i := len(alerts) - 1; i >= 0; i-- { // oldest first
		if a := alerts[i]; a.Status == state.AlertSent {
			r.Alerts = append(r.Alerts, a)
		}
	}
	return r, nil
}

func summariseJobs(jobs []state.Job) []ConnectionSummary {
	by := map[string]*ConnectionSummary{}
	var order []string
	for _, j := range jobs {
		c, ok := by[j.Connection]
		if !ok {
			c = &ConnectionSummary{Connection: j.Connection}
			by[j.Connection] = c
			order = append(order, j.Connection)
		}
		switch j.Status {
		case state.JobSucceeded:
			c.Succeeded++
			if j.Source == "backup" {
				c.SucceededOnBackup++
			}
		case state.JobFailed:
			c.Failed++
			c.LastError = j.Error
		case state.JobCancelled:
			c.Cancelled++
		default:
			c.Running++
		}
		c.Rows += j.Rows
		c.Bytes += j.Bytes
		c.LastStatus, c.LastEnded = j.Status, j.EndedAt
	}
	sort.Strings(order)
	out := make([]ConnectionSummary, 0, len(order))
	for _, name := range order {
		out = append(out, *by[name])
	}
	return out
}

func summariseChecks(recs []state.HealthRecord) []CheckSummary {
	by := map[string]*CheckSummary{}
	for _, h := range recs {
		k := h.Check + "\x00" + h.Target
		c, ok := by[k]
		if !ok {
			c = &CheckSummary{Check: h.Check, Target: h.Target}
			by[k] = c
		}
		c.Runs++
		switch failure.Severity(h.Status) {
		case failure.Warning:
			c.Warning++
		case failure.Critical:
			c.Critical++
		}
		c.Latest, c.LatestMessage, c.LatestAt = h.Status, h.Message, h.Time
	}
	out := make([]CheckSummary, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Check != out[j].Check {
			return out[i].Check < out[j].Check
		}
		return out[i].Target < out[j].Target
	})
	return out
}

// Text renders the report as the e-mail's plain-text body.
func (r Report) Text() string {
	var b strings.Builder
	if err := reportTemplate.Execute(&b, r); err != nil {
		return "report could not be rendered: " + err.Error()
	}
	return b.String()
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"optutc": func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"mib": func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) },
}).Parse(`{{.System}} — status from {{utc .From}} to {{utc .To}}
{{with .Attention}}
NEEDS ATTENTION
{{range .}}  - {{.}}
{{end}}{{else}}
All good: every sync succeeded, every check is ok, no failover.
{{end}}
SYNC JOBS
{{range .Connections}}  {{.Connection}}: {{.Succeeded}} succeeded{{if .SucceededOnBackup}} ({{.SucceededOnBackup}} from the backup){{end}}, {{.Failed}} failed, {{.Cancelled}} cancelled{{if .Running}}, {{.Running}} running{{end}}; {{.Rows}} rows, {{mib .Bytes}}; last {{.LastStatus}} at {{optutc .LastEnded}}{{if .LastError}}
    last error: {{.LastError}}{{end}}
{{else}}  no jobs
{{end}}
HEALTH CHECKS
{{range .Checks}}  {{.Check}} {{.Target}}: now {{.Latest}}; {{.Runs}} runs, {{.Warning}} warning, {{.Critical}} critical{{if ne .Latest "ok"}} — {{.LatestMessage}}{{end}}
{{else}}  no checks ran
{{end}}
FAILOVERS
{{range .Failovers}}  {{utc .At}} {{.Pair}}: {{.From}} -> {{.To}} ({{.Who}}){{if .Reason}}: {{.Reason}}{{end}}
{{else}}  none
{{end}}
DATA QUALITY
{{range .Quality}}  {{.Connection}} {{.Stream}} {{.Partition}}: score {{printf "%.1f" .Score}}, {{.Errors}} error(s), {{.Warnings}} warning(s), {{.Status}}
{{else}}  no quality reports
{{end}}
ALERTS SENT
{{range .Alerts}}  {{utc .At}} {{.Sink}} {{.Event}} {{.Severity}}: {{.Title}}
{{else}}  none
{{end}}{{with .Open}}
OPEN CONDITIONS
{{range .}}  {{.Severity}} since {{utc .Since}}: {{.Title}}{{if .Paged}} (paged){{end}}
{{end}}{{end}}{{with .StatusURL}}
Status page: {{.}}
{{end}}`))
