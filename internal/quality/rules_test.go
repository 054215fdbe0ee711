package quality

import (
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/stats"
)

func settings() config.QualitySettings {
	s := config.QualitySettings{Enabled: true, ScoreThreshold: 0.95, CompletenessSeverity: failure.Error,
		Tables: map[string]config.TableRules{"t": {MinRows: 1, SQL: []config.SQLRule{{Name: "q", Max: new(float64), Severity: "warning"}}}}}
	return s
}

func TestCompleteness_ExactOnAQuietSourceBoundedOnAChangingOne(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		before, after float64
		written       int64
		tolerance     int
		pass          bool
	}{
		{100, 100, 100, 0, true},
		{100, 100, 99, 0, false}, // a row lost on a quiet source
		{100, 100, 99, 1, true},
		{100, 110, 105, 0, true}, // rows appended while reading
		{100, 110, 99, 0, false},
		{110, 100, 111, 0, false},
	} {
		st := &stats.Stream{Rows: c.written}
		st.SetSource(MeasureCompleteness, stats.Measure{Value: c.before, Extra: c.after})
		s := settings()
		s.CompletenessTolerance = c.tolerance
		r := completeness(Input{Stream: "t", Settings: s, Stats: st, Written: c.written})
		if r.Passed != c.pass {
			t.Errorf("%+v: passed %v (%s)", c, r.Passed, r.Measured)
		}
	}
}

func TestScore_WarningsCostPartOfTheScoreErrorsFailTheReport(t *testing.T) {
	t.Parallel()
	st := &stats.Stream{Rows: 10}
	st.SetSource(MeasureCompleteness, stats.Measure{Value: 10, Extra: 10})
	st.SetSource(MeasureSQLPrefix+"q", stats.Measure{Value: 3})
	rep := Evaluate(Input{Stream: "t", Settings: settings(), Stats: st, Written: 10})
	// completeness and min_rows pass, the SQL warning fails: (1+1+0.7)/3.
	if rep.Score < 0.899 || rep.Score > 0.901 || len(rep.Errors()) != 0 || rep.Results[0].Rule != "sql.q" {
		t.Fatalf("score %v, results %+v", rep.Score, rep.Results)
	}
	r := NewReport([]StreamReport{rep}, 0.95)
	if r.Passed {
		t.Error("a report scoring 0.9 passed a 0.95 threshold")
	}
	if !NewReport([]StreamReport{rep}, 0.85).Passed {
		t.Error("a report scoring 0.9 failed a 0.85 threshold without error rules failing")
	}
	st.Source[MeasureCompleteness] = stats.Measure{Value: 11, Extra: 11}
	rep = Evaluate(Input{Stream: "t", Settings: settings(), Stats: st, Written: 10})
	if len(rep.Errors()) != 1 || NewReport([]StreamReport{rep}, 0).Passed {
		t.Errorf("a failing error rule must fail the report: %+v", rep.Results)
	}
}

// Statistics merged from ranges read elsewhere carry no key sets: the
// unique key and reference rules are skipped saying so, while the rules
// over every row still run.
func TestEvaluate_MergedStatisticsSkipOnlyTheRulesOnKeySets(t *testing.T) {
	t.Parallel()
	s := settings()
	s.Tables["t"] = config.TableRules{
		Outliers:   []config.OutlierRule{{Name: "neg", Column: "v", Below: "0", Severity: failure.Warning}},
		References: []config.ReferenceRule{{Column: "v", RefTable: "u", RefColumn: "v", Severity: failure.Warning}},
	}
	st := &stats.Stream{Rows: 10, Columns: []stats.Column{{Name: "v", Kind: stats.KindInteger, Below: map[string]int64{"0": 2}}},
		Unique: &stats.Unique{Key: []string{"v"}, Distinct: 10}}
	rep := Evaluate(Input{Stream: "t", Settings: s, Stats: st, Written: 10, SetsPartial: true})
	got := map[string]Result{}
	for _, r := range rep.Results {
		got[r.Rule] = r
	}
	for _, rule := range []string{"unique_key.v", "reference.v"} {
		if r := got[rule]; !r.Skipped || !strings.Contains(r.Detail, "not mergeable") {
			t.Errorf("%s: %+v, want skipped as not mergeable", rule, r)
		}
	}
	if r := got["outliers.neg"]; r.Skipped || !strings.HasPrefix(r.Measured, "2 rows") {
		t.Errorf("outliers.neg over merged statistics: %+v", r)
	}
}
