// Package report builds the seed's weekly and monthly SLA reports from the
// state store: availability of each failover pair against the 99.9% target
// (share of health rounds with a usable source) and the downtime budget
// left, data-freshness compliance, syncs per day with duration p50/p95,
// rows and bytes, failovers with their recovery time against the 2-hour
// RTO, quality scores, and each stream's stored bytes and row growth. Render writes it as Markdown, JSON or HTML (with
// a server-rendered SVG plot).
package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// The seed's targets.
const (
	AvailabilityTarget = 0.999
	RTOTarget          = 2 * time.Hour
	FreshnessSLA       = 24 * time.Hour
)

// Kinds of report.
const (
	Weekly  = "weekly"
	Monthly = "monthly"
)

// Report is one period's figures.
type Report struct {
	Kind         string         `json:"kind"`
	From         time.Time      `json:"from"`
	To           time.Time      `json:"to"`
	Availability []Availability `json:"availability"`
	Freshness    []Freshness    `json:"freshness"`
	Syncs        Syncs          `json:"syncs"`
	Days         []Day          `json:"days"`
	Failovers    []Failover     `json:"failovers"`
	Quality      []Quality      `json:"quality"`
	Storage      []Storage      `json:"storage"`
	Tables       []TableGrowth  `json:"tables"`
}

// Availability of one pair: the share of health rounds in which its
// primary or its backup source answered.
type Availability struct {
	Pair          string  `json:"pair"`
	Rounds        int     `json:"rounds"`
	Usable        int     `json:"usable"`
	Share         float64 `json:"share"`
	Target        float64 `json:"target"`
	Met           bool    `json:"met"`
	BudgetMinutes float64 `json:"downtime_budget_minutes"` // allowed by the target over the period
	UsedMinutes   float64 `json:"downtime_minutes"`        // (1 - share) of the period
	LeftMinutes   float64 `json:"budget_left_minutes"`
}

// Freshness of one target's data_freshness checks: stale means older than
// the 24 h SLA (the check's critical level).
type Freshness struct {
	Target     string  `json:"target"`
	Checks     int     `json:"checks"`
	Stale      int     `json:"stale"`
	StaleHours float64 `json:"stale_hours"` // the stale share of the period
	Compliance float64 `json:"compliance"`
}

// Syncs summarises the period's jobs.
type Syncs struct {
	Jobs        int     `json:"jobs"`
	Succeeded   int     `json:"succeeded"`
	Failed      int     `json:"failed"`
	OnBackup    int     `json:"succeeded_on_backup"`
	Rows        int64   `json:"rows"`
	Bytes       int64   `json:"bytes"`
	P50Seconds  float64 `json:"duration_p50_seconds"`
	P95Seconds  float64 `json:"duration_p95_seconds"`
	SuccessRate float64 `json:"success_rate"`
}

// Day is one UTC day's syncs.
type Day struct {
	Date       string  `json:"date"`
	Jobs       int     `json:"jobs"`
	Succeeded  int     `json:"succeeded"`
	Failed     int     `json:"failed"`
	Rows       int64   `json:"rows"`
	Bytes      int64   `json:"bytes"`
	P50Seconds float64 `json:"duration_p50_seconds"`
	P95Seconds float64 `json:"duration_p95_seconds"`
}

// Failover is one switch away from the primary and what followed: when
// the primary was first seen failing, when the backup took over, and when
// the primary was back.
type Failover struct {
	Pair       string     `json:"pair"`
	Class      string     `json:"class"`
	Who        string     `json:"who"`
	DetectedAt time.Time  `json:"detected_at"` // first failing check of the primary before the switch
	SwitchedAt time.Time  `json:"switched_at"`
	BackAt     *time.Time `json:"failed_back_at,omitempty"`
	// RTOSeconds is detection to the backup serving: the service's
	// recovery; RTOMet compares it with the seed's 2 hours.
	RTOSeconds float64 `json:"rto_seconds"`
	RTOMet     bool    `json:"rto_met"`
}

// Quality is one stream's quality scores in the period.
type Quality struct {
	Connection  string  `json:"connection"`
	Stream      string  `json:"stream"`
	Reports     int     `json:"reports"`
	MeanScore   float64 `json:"mean_score"`
	MinScore    float64 `json:"min_score"`
	Quarantined int     `json:"quarantined"`
}

// Period is the report's span ending before end: the 7 days before it
// (weekly) or the calendar month that holds its day before (monthly).
func Period(kind string, end time.Time) (from, to time.Time, err error) {
	end = end.UTC()
	switch kind {
	case Weekly:
		to = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)
		return to.AddDate(0, 0, -7), to, nil
	case Monthly:
		from = time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(0, 1, 0), nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("report kind %q: want weekly or monthly", kind)
}

// Build reads the period [from, to) from the state store.
func Build(ctx context.Context, st *state.Store, p *config.Project, kind string, from, to time.Time) (*Report, error) {
	r := &Report{Kind: kind, From: from, To: to}
	health, err := st.HealthSince(ctx, from)
	if err != nil {
		return nil, err
	}
	health = slices.DeleteFunc(health, func(h state.HealthRecord) bool { return !h.Time.Before(to) })
	pairs, err := p.FailoverPairs()
	if err != nil {
		return nil, err
	}
	r.Availability = availability(p, pairs, health, to.Sub(from))
	r.Freshness = freshness(health, to.Sub(from))
	jobs, err := st.JobsSince(ctx, from)
	if err != nil {
		return nil, err
	}
	jobs = slices.DeleteFunc(jobs, func(j state.Job) bool { return !j.CreatedAt.Before(to) })
	r.Syncs, r.Days = syncs(jobs, from, to)
	trs, err := st.TransitionsSince(ctx, from)
	if err != nil {
		return nil, err
	}
	trs = slices.DeleteFunc(trs, func(t state.FailoverTransition) bool { return !t.At.Before(to) })
	r.Failovers = failovers(p, trs, health)
	qs, err := st.QualitySince(ctx, from)
	if err != nil {
		return nil, err
	}
	qs = slices.DeleteFunc(qs, func(q state.QualityReport) bool { return !q.CreatedAt.Before(to) })
	r.Quality = quality(qs)
	if r.Storage, err = storage(ctx, st, p, from, to); err != nil {
		return nil, err
	}
	if r.Tables, err = tableGrowth(ctx, st, from, to); err != nil {
		return nil, err
	}
	return r, nil
}
