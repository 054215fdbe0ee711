package config

import (
	"math/big"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/acode-dev/acode/internal/failure"
)

// QualitySettings are the data-quality rules and gate (acode.yaml section
// "quality"). The defaults are the seed's: its schema_validations for
// farmarcas_si_analitico_diario, its outlier SQL (ACODE_Val_Total above
// R$ 100k and below 0), its referential check of EAN against produtos, its
// business rules (no future dates, daily total between R$ 100k and R$ 10M),
// the 0.95 score threshold and the 1000-row backup variance.
type QualitySettings struct {
	Enabled               bool                  // enabled: gather statistics and run the rules on every sync
	ScoreThreshold        float64               // score_threshold: a partition scoring below this fails validation
	Quarantine            bool                  // quarantine: a stream failing an error rule is committed to _quarantine, not to its partition
	CountSource           bool                  // count_source: take the server's count of each range's rows in its read's snapshot (FOUND_ROWS()) for completeness; false skips the rule
	CompletenessTolerance int                   // completeness_tolerance: rows written may differ from the source count by this many
	CompletenessSeverity  failure.Severity      // completeness_severity
	NulledSeverity        failure.Severity      // nulled_values_severity: of values written as NULL because their type cannot hold them (zero dates)
	BackupVarianceRows    int                   // backup_variance_rows: primary vs backup row difference above this is a warning
	ListKeys              int                   // list_keys: how many differing keys compare and reconcile print
	Tables                map[string]TableRules // tables: rules per stream name; replaces the defaults when present
}

// TableRules are one table's rules, in the seed's schema_validations shape
// plus acode's additions.
type TableRules struct {
	RequiredColumns []string        // required_columns: error when one is missing
	DataTypes       []ColumnType    // data_types: column -> integer|numeric|string|date|timestamp|boolean|binary
	NullTolerance   []ColumnShare   // null_tolerance: column -> largest share of NULLs allowed (0.05 = 5%)
	MinRows         int             // min_rows: fewer rows is an error
	UniqueKey       []string        // unique_key: duplicates are an error (default: the catalog's primary key, checked when the table has no PK constraint)
	Distinct        []string        // distinct_columns: approximate distinct counts (HyperLogLog, ~0.8% error)
	Summarize       []string        // summarize: columns whose min, max and exact sum are kept (compare-backup compares them)
	Outliers        []OutlierRule   // outliers
	References      []ReferenceRule // references: referential integrity against another stream of the job
	FutureDates     *FutureRule     // future_dates
	DailyTotal      *DailyTotalRule // daily_total
	SQL             []SQLRule       // sql: custom rules run on the source
}

// ColumnType is one data_types entry.
type ColumnType struct{ Column, Type string }

// ColumnShare is one null_tolerance entry.
type ColumnShare struct {
	Column string
	Max    float64
}

// OutlierRule counts values of Column above Above or below Below.
type OutlierRule struct {
	Name     string           // name
	Column   string           // column
	Above    string           // above: decimal threshold
	Below    string           // below: decimal threshold
	MaxCount int              // max_count: more outliers than this fail the rule (default 0)
	MaxShare *float64         // max_share: or a larger share of the rows than this
	Severity failure.Severity // severity
}

// ReferenceRule checks that every value of Column exists in RefColumn of
// stream RefTable, read in the same job.
type ReferenceRule struct {
	Column          string           // column
	RefTable        string           // table
	RefColumn       string           // ref_column (default: column)
	MaxMissingShare float64          // max_missing_share: largest share of distinct values allowed to be missing
	Severity        failure.Severity // severity
}

// FutureRule counts date values after the sync's day.
type FutureRule struct {
	Columns  []string         // columns
	MaxCount int              // max_count
	Severity failure.Severity // severity
}

// DailyTotalRule checks the exact sum of Column per day of DateColumn over
// the Days complete days before the partition's day.
type DailyTotalRule struct {
	Column     string           // column
	DateColumn string           // date_column
	Min, Max   string           // min, max: decimal bounds
	Days       int              // days
	Severity   failure.Severity // severity
}

// SQLRule runs Query on the source, inside a consistent snapshot, and
// compares the first column of its first row with Min and Max.
type SQLRule struct {
	Name     string           // name
	Query    string           // query
	Min, Max *float64         // min, max
	Severity failure.Severity // severity
}

func defaultQualitySettings() QualitySettings {
	share := func(f float64) *float64 { return &f }
	return QualitySettings{
		Enabled: true, ScoreThreshold: 0.95, Quarantine: true, CountSource: true,
		CompletenessTolerance: 0, CompletenessSeverity: failure.Error, NulledSeverity: failure.Warning,
		BackupVarianceRows: 1000, ListKeys: 20,
		Tables: map[string]TableRules{
			"farmarcas_si_analitico_diario": {
				RequiredColumns: []string{"idpk", "ACODE_Val_Total", "CNPJ", "Data", "EAN", "Fornecedor", "NF_Numero"},
				DataTypes: []ColumnType{{"idpk", "integer"}, {"ACODE_Val_Total", "numeric"},
					{"CNPJ", "string"}, {"Data", "date"}},
				NullTolerance: []ColumnShare{{"idpk", 0}, {"CNPJ", 0.05}, {"EAN", 0.1}},
				MinRows:       1,
				Distinct:      []string{"CNPJ", "EAN"},
				Summarize:     []string{"ACODE_Val_Total", "Qtd_Trib", "Val_Prod", "Data"},
				Outliers: []OutlierRule{
					{Name: "high_value_transactions", Column: "ACODE_Val_Total", Above: "100000", MaxShare: share(0.01), Severity: failure.Warning},
					{Name: "negative_values", Column: "ACODE_Val_Total", Below: "0", Severity: failure.Warning},
				},
				References: []ReferenceRule{{Column: "EAN", RefTable: "farmarcas_si_analitico_diario_produtos",
					RefColumn: "EAN", MaxMissingShare: 0, Severity: failure.Warning}},
				FutureDates: &FutureRule{Columns: []string{"Data"}, Severity: failure.Warning},
				DailyTotal: &DailyTotalRule{Column: "ACODE_Val_Total", DateColumn: "Data", Min: "100000", Max: "10000000",
					Days: 1, Severity: failure.Warning},
			},
			"farmarcas_si_analitico_diario_produtos":    {MinRows: 1, Distinct: []string{"EAN"}},
			"farmarcas_si_analitico_diario_complemento": {MinRows: 1},
		},
	}
}

// Rules returns the rules of stream name, and whether it has any.
func (s QualitySettings) Rules(stream string) (TableRules, bool) {
	r, ok := s.Tables[stream]
	return r, ok
}

func (s *QualitySettings) decode(m *mapNode, _ func(string) string) {
	m.boolean("enabled", &s.Enabled)
	m.fraction("score_threshold", &s.ScoreThreshold)
	m.boolean("quarantine", &s.Quarantine)
	m.boolean("count_source", &s.CountSource)
	m.integer("completeness_tolerance", &s.CompletenessTolerance, 0, maxInt32)
	m.severity("completeness_severity", &s.CompletenessSeverity)
	m.severity("nulled_values_severity", &s.NulledSeverity)
	m.integer("backup_variance_rows", &s.BackupVarianceRows, 0, maxInt32)
	m.integer("list_keys", &s.ListKeys, 0, 10000)
	if tm := m.child("tables"); tm != nil {
		s.Tables = map[string]TableRules{}
		for _, name := range tm.keys() {
			if rm := tm.child(name); rm != nil {
				s.Tables[name] = decodeTableRules(rm)
				rm.finish()
			}
		}
		tm.finish()
	}
}

func decodeTableRules(m *mapNode) TableRules {
	var r TableRules
	r.RequiredColumns = m.strings("required_columns")
	if dm := m.child("data_types"); dm != nil {
		for _, col := range dm.keys() {
			t := ""
			dm.enum(col, &t, "integer", "numeric", "string", "date", "timestamp", "boolean", "binary")
			r.DataTypes = append(r.DataTypes, ColumnType{Column: col, Type: t})
		}
		dm.finish()
	}
	if nm := m.child("null_tolerance"); nm != nil {
		for _, col := range nm.keys() {
			var f float64
			nm.fraction(col, &f)
			r.NullTolerance = append(r.NullTolerance, ColumnShare{Column: col, Max: f})
		}
		nm.finish()
	}
	m.integer("min_rows", &r.MinRows, 0, maxInt32)
	r.UniqueKey = m.strings("unique_key")
	r.Distinct = m.strings("distinct_columns")
	r.Summarize = m.strings("summarize")
	for i, it := range m.seq("outliers") {
		if om := m.item(it, "outliers", i); om != nil {
			o := OutlierRule{Severity: failure.Warning}
			om.required("name", &o.Name)
			om.required("column", &o.Column)
			om.decimal("above", &o.Above)
			om.decimal("below", &o.Below)
			if !om.has("above") && !om.has("below") {
				om.errorf("above", "an outlier rule needs above or below")
			}
			om.integer("max_count", &o.MaxCount, 0, maxInt32)
			if om.has("max_share") {
				var f float64
				om.fraction("max_share", &f)
				o.MaxShare = &f
			}
			om.severity("severity", &o.Severity)
			om.finish()
			r.Outliers = append(r.Outliers, o)
		}
	}
	for i, it := range m.seq("references") {
		if rm := m.item(it, "references", i); rm != nil {
			ref := ReferenceRule{Severity: failure.Warning}
			rm.required("column", &ref.Column)
			rm.required("table", &ref.RefTable)
			ref.RefColumn = ref.Column
			rm.str("ref_column", &ref.RefColumn)
			rm.fraction("max_missing_share", &ref.MaxMissingShare)
			rm.severity("severity", &ref.Severity)
			rm.finish()
			r.References = append(r.References, ref)
		}
	}
	if fm := m.child("future_dates"); fm != nil {
		f := &FutureRule{Severity: failure.Warning}
		f.Columns = fm.strings("columns")
		if len(f.Columns) == 0 {
			fm.missing("columns")
		}
		fm.integer("max_count", &f.MaxCount, 0, maxInt32)
		fm.severity("severity", &f.Severity)
		fm.finish()
		r.FutureDates = f
	}
	if dm := m.child("daily_total"); dm != nil {
		d := &DailyTotalRule{Days: 1, Severity: failure.Warning}
		dm.required("column", &d.Column)
		dm.required("date_column", &d.DateColumn)
		dm.decimal("min", &d.Min)
		dm.decimal("max", &d.Max)
		dm.integer("days", &d.Days, 1, 366)
		dm.severity("severity", &d.Severity)
		dm.finish()
		r.DailyTotal = d
	}
	for i, it := range m.seq("sql") {
		if sm := m.item(it, "sql", i); sm != nil {
			q := SQLRule{Severity: failure.Warning}
			sm.required("name", &q.Name)
			sm.required("query", &q.Query)
			q.Min = sm.optionalNumber("min")
			q.Max = sm.optionalNumber("max")
			if !sm.has("min") && !sm.has("max") {
				sm.errorf("max", "a sql rule needs min or max")
			}
			sm.severity("severity", &q.Severity)
			sm.finish()
			r.SQL = append(r.SQL, q)
		}
	}
	return r
}

// keys returns the keys of a mapping whose keys are names the user chose
// (tables, columns), in file order, marking them used.
func (m *mapNode) keys() []string {
	var out []string
	for i := 0; i+1 < len(m.node.Content); i += 2 {
		k := m.node.Content[i].Value
		m.used[k] = true
		out = append(out, k)
	}
	return out
}

// item returns the i-th element of list key as a mapping, or nil (reported).
func (m *mapNode) item(it *yaml.Node, key string, i int) *mapNode {
	path := indexPath(m.key(key), i)
	if it.Kind != yaml.MappingNode {
		m.f.errorAt(it, path, "must be a mapping, not a %s", kindName(it))
		return nil
	}
	return m.f.newMap(it, path, it.Line)
}

// fraction sets *dst from key, a number between 0 and 1.
func (m *mapNode) fraction(key string, dst *float64) bool {
	v, present, ok := m.scalar(key)
	if !ok {
		return present
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
	if err != nil || f < 0 || f > 1 {
		m.f.errorAt(v, m.key(key), "must be a number between 0 and 1 (0.05 = 5%%), got %q", v.Value)
		return true
	}
	*dst = f
	return true
}

// decimal sets *dst from key, an exact decimal number kept as text.
func (m *mapNode) decimal(key string, dst *string) bool {
	v, present, ok := m.scalar(key)
	if !ok {
		return present
	}
	s := strings.TrimSpace(v.Value)
	if _, ok := new(big.Rat).SetString(s); !ok || strings.ContainsAny(s, "eE/") {
		m.f.errorAt(v, m.key(key), "must be a decimal number such as 100000 or -0.5, got %q", v.Value)
		return true
	}
	*dst = s
	return true
}

// optionalNumber returns key as a float64, or nil when absent.
func (m *mapNode) optionalNumber(key string) *float64 {
	v, _, ok := m.scalar(key)
	if !ok {
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
	if err != nil {
		m.f.errorAt(v, m.key(key), "must be a number, got %q", v.Value)
		return nil
	}
	return &f
}
