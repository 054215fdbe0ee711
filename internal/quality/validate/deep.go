package validate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/stats"
)

// recomputer rebuilds a snapshot's statistics from its files (--deep): the
// rows of the manifest's own job are decoded back to the reader's text form
// and observed by a Gatherer built from the same spec the sync derives, so
// there is one definition of every statistic.
type recomputer struct {
	m       *snapshot.Manifest
	gather  *stats.Gatherer
	worker  *stats.Worker
	decoded int64
	columns []string // the columns whose values the statistics read
}

func newRecomputer(settings config.QualitySettings, m *snapshot.Manifest) (*recomputer, error) {
	table := m.Table()
	var key []string
	day := m.StartedAt.UTC().Format(time.DateOnly)
	if m.Stats != nil {
		if m.Stats.Unique != nil {
			key = m.Stats.Unique.Key // what the sync checked: the catalog's key of a table without PK
		}
		if m.Stats.FutureAfter != "" {
			day = m.Stats.FutureAfter
		}
	}
	spec := quality.SpecFor(settings, m.Stream, table, key, day)
	g, err := stats.NewGatherer(table, spec)
	if err != nil {
		return nil, fmt.Errorf("deep statistics of %s: %w", m.Stream, err)
	}
	return &recomputer{m: m, gather: g, worker: g.NewWorker(), columns: spec.Columns()}, nil
}

// observe feeds every row of one part.
func (r *recomputer) observe(pf *pq.File) error {
	dec, err := parquet.NewDecoder(pf, r.m.Table())
	if err != nil {
		return err
	}
	dec.Only(r.columns)
	return parquet.EachRow(pf, func(row pq.Row) error {
		text, err := dec.Text(row)
		if err != nil {
			return err
		}
		r.worker.Observe(text)
		r.decoded++
		return nil
	})
}

// result is the recomputed statistics, with the source measures (counts
// taken on MySQL at sync time, which no file can reproduce) carried over.
func (r *recomputer) result() *stats.Stream {
	r.gather.Add(r.worker)
	st := r.gather.Result()
	if r.m.Stats != nil {
		st.Source = r.m.Stats.Source
	}
	return st
}

// statsDiff lists every difference between the statistics a manifest
// records and those recomputed from its files, each naming the stream, the
// column, the stored and the recomputed value.
func statsDiff(stream string, stored, got *stats.Stream) []string {
	var out []string
	diff := func(what, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %s: manifest says %s, files hold %s", stream, what, orNone(a), orNone(b)))
		}
	}
	count := func(what string, a, b int64) { diff(what, strconv.FormatInt(a, 10), strconv.FormatInt(b, 10)) }
	count("rows", stored.Rows, got.Rows)
	for _, sc := range stored.Columns {
		gc, ok := got.Column(sc.Name)
		if !ok {
			out = append(out, fmt.Sprintf("%s column %s: in the manifest's statistics, not in the files", stream, sc.Name))
			continue
		}
		col := "column " + sc.Name + " "
		count(col+"nulls", sc.Nulls, gc.Nulls)
		diff(col+"min", sc.Min, gc.Min)
		diff(col+"max", sc.Max, gc.Max)
		if sc.Kind == stats.KindFloat {
			if !closeFloats(sc.Sum, gc.Sum) { // float sums depend on the order of addition
				diff(col+"sum", sc.Sum, gc.Sum)
			}
		} else {
			diff(col+"sum", sc.Sum, gc.Sum)
		}
		count(col+"negatives", sc.Negatives, gc.Negatives)
		if stored.FutureAfter == got.FutureAfter {
			count(col+"future dates", sc.Future, gc.Future)
		}
		if sc.Distinct != 0 && gc.Distinct != 0 {
			diff(col+"distinct", strconv.FormatUint(sc.Distinct, 10), strconv.FormatUint(gc.Distinct, 10))
		}
		for _, th := range slices.Sorted(maps.Keys(sc.Above)) {
			if n, ok := gc.Above[th]; ok {
				count(col+"above "+th, sc.Above[th], n)
			}
		}
		for _, th := range slices.Sorted(maps.Keys(sc.Below)) {
			if n, ok := gc.Below[th]; ok {
				count(col+"below "+th, sc.Below[th], n)
			}
		}
	}
	if stored.Unique != nil && got.Unique != nil {
		count("unique key distinct", stored.Unique.Distinct, got.Unique.Distinct)
		count("unique key duplicate rows", stored.Unique.Duplicate, got.Unique.Duplicate)
	}
	for _, k := range slices.Sorted(maps.Keys(stored.KeyCounts)) {
		if n, ok := got.KeyCounts[k]; ok {
			count("column "+k+" key count", stored.KeyCounts[k], n)
		}
	}
	for _, sd := range stored.DailyTotals {
		for _, gd := range got.DailyTotals {
			if sd.Value != gd.Value || sd.Date != gd.Date {
				continue
			}
			days := slices.Sorted(maps.Keys(sd.Totals))
			for d := range gd.Totals {
				if _, ok := sd.Totals[d]; !ok {
					days = append(days, d)
				}
			}
			for _, d := range days {
				diff("column "+sd.Value+" total of "+d, sd.Totals[d], gd.Totals[d])
			}
		}
	}
	return out
}

func closeFloats(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return math.Abs(x-y) <= 1e-9*max(math.Abs(x), math.Abs(y), 1)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
