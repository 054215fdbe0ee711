package quality

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/stats"
)

// Names of the source measures the syncer records in stats.Stream.Source.
const (
	// MeasureCompleteness: Value is the source's count of the rows read,
	// each range counted inside its read's snapshot. Extra is the upper end
	// of a [Value, Extra] range the written rows may lie in: equal to Value
	// now; older manifests hold counts taken before and after the reads.
	MeasureCompleteness = "completeness"
	// MeasureReferencePrefix + column: Value is the number of distinct
	// values missing from the referenced stream, Extra the distinct values.
	MeasureReferencePrefix = "reference."
	// MeasureSQLPrefix + rule name: Value is the query's result.
	MeasureSQLPrefix = "sql."
)

// Input is what the rules of one stream's partition are evaluated on.
type Input struct {
	Stream   string
	Settings config.QualitySettings
	Stats    *stats.Stream
	// Written is the number of rows in the committed files (the manifest's
	// count), compared with the source for completeness.
	Written int64
	// Day is the partition's day (YYYY-MM-DD): dates after it are future,
	// and daily totals are checked on the days before it.
	Day     string
	Partial bool
	// SetsPartial says every row is in the statistics, some through the
	// merged summaries of ranges read by other processes or attempts,
	// which carry no per-value sets: the unique key and reference rules
	// are skipped, the others run over every row.
	SetsPartial bool
}

// setsNotMerged is the detail of a rule on per-value sets skipped because
// some ranges were read by other processes or attempts.
const setsNotMerged = "not evaluated: ranges read by other replicas or earlier attempts carry no per-value key sets (not mergeable)"

// Evaluate runs the stream's rules on its statistics. Streams without
// rules still get completeness and row-count checks.
func Evaluate(in Input) StreamReport {
	rules, _ := in.Settings.Rules(in.Stream)
	rep := StreamReport{Stream: in.Stream, Rows: in.Written, Partial: in.Partial}
	add := func(r Result) { rep.Results = append(rep.Results, r) }
	st := in.Stats
	if st == nil {
		add(Result{Rule: "statistics", Severity: failure.Warning, Skipped: true, Detail: "no statistics recorded"})
		rep.score()
		return rep
	}
	add(completeness(in))
	add(countAtLeast("min_rows", failure.Error, in.Written, int64(rules.MinRows)))
	for _, c := range rules.RequiredColumns {
		_, ok := st.Column(c)
		add(Result{Rule: "required_column." + c, Severity: failure.Error, Passed: ok,
			Measured: presence(ok), Threshold: "present"})
	}
	for _, dt := range rules.DataTypes {
		add(dataType(st, dt))
	}
	for _, nt := range rules.NullTolerance {
		add(nullTolerance(st, nt))
	}
	switch {
	case st.Unique != nil && in.SetsPartial:
		add(Result{Rule: "unique_key." + strings.Join(st.Unique.Key, ","), Severity: failure.Error, Skipped: true,
			Threshold: "0", Detail: setsNotMerged})
	case st.Unique != nil:
		add(Result{Rule: "unique_key." + strings.Join(st.Unique.Key, ","), Severity: failure.Error,
			Passed: st.Unique.Duplicate == 0, Measured: fmt.Sprintf("%d duplicate rows", st.Unique.Duplicate),
			Threshold: "0", Detail: fmt.Sprintf("%d distinct keys", st.Unique.Distinct)})
	}
	for _, o := range rules.Outliers {
		add(outlier(st, o, in.Partial))
	}
	for _, ref := range rules.References {
		r := reference(st, ref)
		if in.SetsPartial && r.Skipped {
			r.Detail = ref.Column + " in " + ref.RefTable + "." + ref.RefColumn + ": " + setsNotMerged
		}
		add(r)
	}
	if f := rules.FutureDates; f != nil {
		add(futureDates(st, f, in.Partial))
	}
	if d := rules.DailyTotal; d != nil {
		add(dailyTotal(st, d, in.Day, in.Partial))
	}
	for _, q := range rules.SQL {
		add(sqlRule(st, q))
	}
	for _, r := range nulledValues(st, in.Stream, in.Settings.NulledSeverity) {
		add(r)
	}
	rep.score()
	return rep
}

func presence(ok bool) string {
	if ok {
		return "present"
	}
	return "missing"
}

func countAtLeast(rule string, severity failure.Severity, got, least int64) Result {
	return Result{Rule: rule, Severity: severity, Passed: got >= least,
		Measured: strconv.FormatInt(got, 10), Threshold: ">= " + strconv.FormatInt(least, 10)}
}

// completeness compares the rows written with the source's count: the
// server's count of the rows each range's read matched, in that read's
// consistent snapshot (mysql.ReadOptions.Counted), so the comparison is
// exact however the table changes during the sync, within the tolerance.
// A measure holding two different counts (taken before and after the
// reads, as recorded by an older acode) bounds the rows written instead.
func completeness(in Input) Result {
	s := in.Settings
	r := Result{Rule: "completeness", Severity: s.CompletenessSeverity}
	m, ok := in.Stats.Source[MeasureCompleteness]
	if !ok || m.Error != "" {
		r.Skipped, r.Detail = true, "no source count: "+orDash(m.Error)
		return r
	}
	lo, hi := int64(min(m.Value, m.Extra)), int64(max(m.Value, m.Extra))
	tol := int64(s.CompletenessTolerance)
	r.Passed = in.Written >= lo-tol && in.Written <= hi+tol
	r.Measured = fmt.Sprintf("%d written, %d in source", in.Written, lo)
	r.Threshold = fmt.Sprintf("difference <= %d", tol)
	if lo != hi {
		r.Measured = fmt.Sprintf("%d written, source %d..%d during the read", in.Written, int64(m.Value), int64(m.Extra))
		r.Detail = "the source changed while it was read; rows written must lie between the counts taken before and after"
	}
	if m.Note != "" {
		r.Detail = strings.TrimPrefix(r.Detail+"; "+m.Note, "; ")
	}
	return r
}

// typeKinds maps the seed's data_types words to the statistics kinds that
// satisfy them.
var typeKinds = map[string][]stats.Kind{
	"integer":   {stats.KindInteger},
	"numeric":   {stats.KindInteger, stats.KindDecimal, stats.KindFloat},
	"string":    {stats.KindString},
	"date":      {stats.KindDate},
	"timestamp": {stats.KindDateTime},
	"boolean":   {stats.KindBoolean},
	"binary":    {stats.KindBinary},
}

func dataType(st *stats.Stream, dt config.ColumnType) Result {
	r := Result{Rule: "data_type." + dt.Column, Severity: failure.Error, Threshold: dt.Type}
	c, ok := st.Column(dt.Column)
	if !ok {
		r.Measured = "missing"
		return r
	}
	r.Measured = string(c.Kind)
	for _, k := range typeKinds[dt.Type] {
		if c.Kind == k {
			r.Passed = true
		}
	}
	return r
}

func nullTolerance(st *stats.Stream, nt config.ColumnShare) Result {
	r := Result{Rule: "null_tolerance." + nt.Column, Severity: failure.Error, Threshold: "<= " + pct(nt.Max)}
	c, ok := st.Column(nt.Column)
	if !ok {
		r.Measured = "column missing"
		return r
	}
	share := ratio(c.Nulls, st.Rows)
	r.Passed = share <= nt.Max
	r.Measured = fmt.Sprintf("%s (%d of %d)", pct(share), c.Nulls, st.Rows)
	return r
}

func outlier(st *stats.Stream, o config.OutlierRule, partial bool) Result {
	r := Result{Rule: "outliers." + o.Name, Severity: o.Severity, Skipped: partial}
	c, ok := st.Column(o.Column)
	if !ok {
		r.Measured = "column " + o.Column + " missing"
		return r
	}
	var n int64
	var what string
	if o.Above != "" {
		n, what = c.Above[o.Above], o.Column+" > "+o.Above
	} else {
		n, what = c.Below[o.Below], o.Column+" < "+o.Below
	}
	share := ratio(n, st.Rows)
	r.Measured = fmt.Sprintf("%d rows (%s)", n, pct(share))
	if o.MaxShare != nil {
		r.Passed = share <= *o.MaxShare
		r.Threshold = "<= " + pct(*o.MaxShare)
	} else {
		r.Passed = n <= int64(o.MaxCount)
		r.Threshold = "<= " + strconv.Itoa(o.MaxCount)
	}
	r.Detail = what
	return r
}

func reference(st *stats.Stream, ref config.ReferenceRule) Result {
	r := Result{Rule: "reference." + ref.Column, Severity: ref.Severity,
		Threshold: "<= " + pct(ref.MaxMissingShare) + " missing", Detail: ref.Column + " in " + ref.RefTable + "." + ref.RefColumn}
	m, ok := st.Source[MeasureReferencePrefix+ref.Column]
	if !ok {
		r.Skipped = true
		r.Detail += ": not evaluated (" + ref.RefTable + " was not read in the same job)"
		return r
	}
	share := 0.0
	if m.Extra > 0 {
		share = m.Value / m.Extra
	}
	r.Passed = share <= ref.MaxMissingShare
	r.Measured = fmt.Sprintf("%d of %d distinct missing (%s)", int64(m.Value), int64(m.Extra), pct(share))
	if m.Note != "" {
		r.Detail += "; " + m.Note
	}
	return r
}

func futureDates(st *stats.Stream, f *config.FutureRule, partial bool) Result {
	r := Result{Rule: "future_dates", Severity: f.Severity, Threshold: "<= " + strconv.Itoa(f.MaxCount), Skipped: partial}
	var n int64
	for _, name := range f.Columns {
		if c, ok := st.Column(name); ok {
			n += c.Future
		}
	}
	r.Passed = n <= int64(f.MaxCount)
	r.Measured = fmt.Sprintf("%d rows", n)
	r.Detail = strings.Join(f.Columns, ", ") + " after " + st.FutureAfter
	return r
}

// dailyTotal checks the days before the partition's day: the last complete
// days, as the seed checks yesterday's sales.
func dailyTotal(st *stats.Stream, d *config.DailyTotalRule, day string, partial bool) Result {
	r := Result{Rule: "daily_total." + d.Column, Severity: d.Severity, Skipped: partial,
		Threshold: fmt.Sprintf("%s..%s", orDash(d.Min), orDash(d.Max))}
	var totals map[string]string
	for _, t := range st.DailyTotals {
		if strings.EqualFold(t.Value, d.Column) && strings.EqualFold(t.Date, d.DateColumn) {
			totals = t.Totals
		}
	}
	end, err := time.Parse(time.DateOnly, day)
	if totals == nil || err != nil {
		r.Skipped, r.Detail = true, "no daily totals recorded"
		return r
	}
	r.Passed = true
	var shown []string
	for i := d.Days; i >= 1; i-- {
		dd := end.AddDate(0, 0, -i).Format(time.DateOnly)
		total := totals[dd]
		if total == "" {
			total = "0"
		}
		shown = append(shown, dd+": "+total)
		if !within(total, d.Min, d.Max) {
			r.Passed = false
		}
	}
	r.Measured = strings.Join(shown, ", ")
	r.Detail = "sum of " + d.Column + " per " + d.DateColumn
	return r
}

func within(v, lo, hi string) bool {
	x, err := stats.ParseDecimal(v)
	if err != nil {
		return false
	}
	if lo != "" {
		if l, err := stats.ParseDecimal(lo); err == nil && x.Cmp(l) < 0 {
			return false
		}
	}
	if hi != "" {
		if h, err := stats.ParseDecimal(hi); err == nil && x.Cmp(h) > 0 {
			return false
		}
	}
	return true
}

func sqlRule(st *stats.Stream, q config.SQLRule) Result {
	r := Result{Rule: "sql." + q.Name, Severity: q.Severity, Threshold: bounds(q.Min, q.Max)}
	m, ok := st.Source[MeasureSQLPrefix+q.Name]
	if !ok {
		r.Skipped, r.Detail = true, "not run"
		return r
	}
	if m.Error != "" {
		r.Measured, r.Detail = "error", m.Error
		return r
	}
	r.Measured = strconv.FormatFloat(m.Value, 'f', -1, 64)
	r.Passed = (q.Min == nil || m.Value >= *q.Min) && (q.Max == nil || m.Value <= *q.Max)
	return r
}

func bounds(lo, hi *float64) string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	return f(lo) + ".." + f(hi)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func pct(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 2, 64) + "%"
}

// nulledValues reports the values written as NULL because the column's
// Parquet type cannot hold them (zero and partial zero dates), with each
// column's count: a warning by default, so the change is never silent, or
// an error (quarantine) with quality.nulled_values_severity: error. One
// rule for the stream, so that a table with many date columns is not
// scored down once per column; none when there were none.
func nulledValues(st *stats.Stream, stream string, severity failure.Severity) []Result {
	var total int64
	var cols []string
	for _, c := range slices.Sorted(maps.Keys(st.Nulled)) {
		if n := st.Nulled[c]; n > 0 {
			total += n
			cols = append(cols, fmt.Sprintf("%s %d", c, n))
		}
	}
	if total == 0 {
		return nil
	}
	return []Result{{Rule: "nulled_values", Severity: severity, Threshold: "0",
		Measured: fmt.Sprintf("%d values in %d columns (%s)", total, len(cols), strings.Join(cols, ", ")),
		Detail: "zero or partial zero dates, which no Parquet DATE/TIMESTAMP holds, written as NULL; " +
			"sync.columns " + stream + ".COLUMN: string keeps their text"}}
}
