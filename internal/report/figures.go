package report

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/state"
)

const (
	checkConnectivity = health.CheckConnectivity
	checkFreshness    = health.CheckFreshness
	statusCritical    = string(failure.Critical)
)

// availability counts, per pair, the health rounds (connectivity results
// of one instant) in which the primary or the backup source was not
// critical.
func availability(p *config.Project, pairs []config.FailoverPair, health []state.HealthRecord, period time.Duration) []Availability {
	out := []Availability{}
	for _, pr := range pairs {
		prim, back := sourceOf(p, pr.Primary), sourceOf(p, pr.Backup)
		rounds := map[time.Time]bool{} // round -> usable
		for _, h := range health {
			if h.Check != checkConnectivity || (h.Target != prim && h.Target != back) {
				continue
			}
			t := h.Time // one round stamps all its results with one time
			rounds[t] = rounds[t] || h.Status != statusCritical
		}
		a := Availability{Pair: pr.Primary, Rounds: len(rounds), Target: AvailabilityTarget, Share: 1}
		for _, ok := range rounds {
			if ok {
				a.Usable++
			}
		}
		if a.Rounds > 0 {
			a.Share = float64(a.Usable) / float64(a.Rounds)
		}
		a.Met = a.Share >= AvailabilityTarget
		a.BudgetMinutes = round2(period.Minutes() * (1 - AvailabilityTarget))
		a.UsedMinutes = round2(period.Minutes() * (1 - a.Share))
		a.LeftMinutes = round2(a.BudgetMinutes - a.UsedMinutes)
		out = append(out, a)
	}
	return out
}

func sourceOf(p *config.Project, conn string) string {
	if c := p.Connections[conn]; c != nil && c.Source != nil {
		return c.Source.ResourceName
	}
	return ""
}

func freshness(health []state.HealthRecord, period time.Duration) []Freshness {
	by := map[string]*Freshness{}
	for _, h := range health {
		if h.Check != checkFreshness {
			continue
		}
		f := by[h.Target]
		if f == nil {
			f = &Freshness{Target: h.Target}
			by[h.Target] = f
		}
		f.Checks++
		if h.Status == statusCritical {
			f.Stale++
		}
	}
	out := []Freshness{}
	for _, f := range by {
		share := float64(f.Stale) / float64(f.Checks)
		f.StaleHours = round2(share * period.Hours())
		f.Compliance = round4(1 - share)
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Freshness) int { return strings.Compare(a.Target, b.Target) })
	return out
}

// syncs summarises the jobs whole and per UTC day of [from, to).
func syncs(jobs []state.Job, from, to time.Time) (Syncs, []Day) {
	var s Syncs
	var all []float64
	days := []Day{}
	perDay := map[string][]float64{}
	index := map[string]int{}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		index[d.Format(time.DateOnly)] = len(days)
		days = append(days, Day{Date: d.Format(time.DateOnly)})
	}
	for _, j := range jobs {
		i, ok := index[j.CreatedAt.UTC().Format(time.DateOnly)]
		if !ok {
			continue
		}
		d := &days[i]
		s.Jobs++
		d.Jobs++
		switch j.Status {
		case state.JobSucceeded:
			s.Succeeded++
			d.Succeeded++
			if j.Source == "backup" {
				s.OnBackup++
			}
		case state.JobFailed:
			s.Failed++
			d.Failed++
		}
		s.Rows += j.Rows
		s.Bytes += j.Bytes
		d.Rows += j.Rows
		d.Bytes += j.Bytes
		if j.StartedAt != nil && j.EndedAt != nil {
			sec := j.EndedAt.Sub(*j.StartedAt).Seconds()
			all = append(all, sec)
			perDay[d.Date] = append(perDay[d.Date], sec)
		}
	}
	s.P50Seconds, s.P95Seconds = percentile(all, 0.50), percentile(all, 0.95)
	if s.Jobs > 0 {
		s.SuccessRate = round4(float64(s.Succeeded) / float64(s.Jobs))
	}
	for i := range days {
		ds := perDay[days[i].Date]
		days[i].P50Seconds, days[i].P95Seconds = percentile(ds, 0.50), percentile(ds, 0.95)
	}
	return s, days
}

// percentile is the nearest-rank percentile of xs (0 when empty).
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return round2(s[max(i, 0)])
}

// failovers pairs each switch to the backup with the primary's first
// failing check before it (detection) and the next switch back.
func failovers(p *config.Project, trs []state.FailoverTransition, health []state.HealthRecord) []Failover {
	out := []Failover{}
	for i, tr := range trs {
		if tr.To != "backup_active" {
			continue
		}
		f := Failover{Pair: tr.Pair, Class: tr.Class, Who: tr.Who, SwitchedAt: tr.At, DetectedAt: tr.At}
		prim := sourceOf(p, tr.Pair)
		for k := len(health) - 1; k >= 0; k-- {
			h := health[k]
			if h.Check != checkConnectivity || h.Target != prim || h.Time.After(tr.At) {
				continue
			}
			if h.Status != statusCritical {
				break
			}
			f.DetectedAt = h.Time
		}
		for _, next := range trs[i+1:] {
			if next.Pair == tr.Pair && next.To == "primary_active" {
				at := next.At
				f.BackAt = &at
				break
			}
		}
		f.RTOSeconds = round2(f.SwitchedAt.Sub(f.DetectedAt).Seconds())
		f.RTOMet = f.SwitchedAt.Sub(f.DetectedAt) <= RTOTarget
		out = append(out, f)
	}
	return out
}

func quality(qs []state.QualityReport) []Quality {
	type key struct{ c, s string }
	by := map[key]*Quality{}
	var order []key
	for _, q := range qs {
		k := key{q.Connection, q.Stream}
		e := by[k]
		if e == nil {
			e = &Quality{Connection: q.Connection, Stream: q.Stream, MinScore: q.Score}
			by[k] = e
			order = append(order, k)
		}
		e.Reports++
		e.MeanScore += q.Score
		e.MinScore = min(e.MinScore, q.Score)
		if q.Status == "quarantined" {
			e.Quarantined++
		}
	}
	out := []Quality{}
	for _, k := range order {
		e := by[k]
		e.MeanScore = round4(e.MeanScore / float64(e.Reports))
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Quality) int {
		return strings.Compare(a.Connection+"/"+a.Stream, b.Connection+"/"+b.Stream)
	})
	return out
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
func round4(x float64) float64 { return math.Round(x*10000) / 10000 }
