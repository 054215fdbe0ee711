package config

import (
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/failure"
)

func TestLoad_QualityRulesOverrideTheSeedDefaults(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := p.Settings.Quality.Rules("farmarcas_si_analitico_diario")
	if !ok || p.Settings.Quality.ScoreThreshold != 0.95 || len(d.NullTolerance) != 3 || d.NullTolerance[1] != (ColumnShare{"CNPJ", 0.05}) {
		t.Fatalf("seed defaults: %+v", p.Settings.Quality)
	}
	yaml := `quality:
  score_threshold: 0.9
  tables:
    t1:
      null_tolerance: {a: 0.5}
      unique_key: [k]
      outliers:
        - {name: big, column: v, above: 10.5, severity: error}
      sql:
        - {name: orphans, query: "SELECT 1", max: 0, severity: error}
`
	p, err = Load(writeProject(t, edit{SettingsFile, "", yaml}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Settings.Quality
	r, ok := q.Rules("t1")
	if q.ScoreThreshold != 0.9 || !ok || len(q.Tables) != 1 || r.UniqueKey[0] != "k" || r.Outliers[0].Above != "10.5" ||
		r.Outliers[0].Severity != failure.Error || *r.SQL[0].Max != 0 || r.NullTolerance[0].Max != 0.5 {
		t.Errorf("overrides: %+v %+v", q, r)
	}
}

func TestLoad_QualitySettingsErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, key, msg string }{
		{"quality:\n  score_threshold: 95\n", "quality.score_threshold", "between 0 and 1"},
		{"quality:\n  tables:\n    t:\n      null_tolerance: {a: lots}\n", "quality.tables.t.null_tolerance.a", "between 0 and 1"},
		{"quality:\n  tables:\n    t:\n      data_types: {a: text}\n", "quality.tables.t.data_types.a", "must be one of"},
		{"quality:\n  tables:\n    t:\n      outliers: [{name: o, column: c, above: 1e5}]\n", "quality.tables.t.outliers[0].above", "decimal"},
		{"quality:\n  tables:\n    t:\n      outliers: [{name: o, column: c, severity: fatal, above: 1}]\n", "quality.tables.t.outliers[0].severity", "warning, error"},
		{"quality:\n  tables:\n    t:\n      min_row: 3\n", "quality.tables.t.min_row", "unknown key"},
	} {
		_, err := Load(writeProject(t, edit{SettingsFile, "", tt.yaml}), minimalEnv)
		errs := Errors(err)
		if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Msg, tt.msg) {
			t.Errorf("%q: got %v, want one error at %s containing %q", tt.yaml, err, tt.key, tt.msg)
		}
	}
}
