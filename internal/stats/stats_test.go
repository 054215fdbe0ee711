package stats

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

func diarioTable() schema.Table {
	return schema.Table{Name: "farmarcas_si_analitico_diario", Columns: []schema.Column{
		{Name: "idpk", DataType: "bigint", ColumnType: "bigint(20)"},
		{Name: "ACODE_Val_Total", DataType: "decimal", ColumnType: "decimal(15,2)", Precision: 15, Scale: 2},
		{Name: "CNPJ", DataType: "char", ColumnType: "char(14)"},
		{Name: "Data", DataType: "date", ColumnType: "date"},
		{Name: "EAN", DataType: "varchar", ColumnType: "varchar(14)"},
		{Name: "Peso", DataType: "double", ColumnType: "double"},
		{Name: "Big", DataType: "bigint", ColumnType: "bigint(20) unsigned", Unsigned: true},
	}}
}

func row(vals ...string) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if v != "NULL" {
			out[i] = []byte(v)
		}
	}
	return out
}

func TestGatherer_ExactSumsThresholdsNullsAcrossWorkers(t *testing.T) {
	t.Parallel()
	g, err := NewGatherer(diarioTable(), Spec{
		Summarize: []string{"ACODE_Val_Total", "Big", "Peso", "Data"},
		Distinct:  []string{"CNPJ"}, Unique: []string{"idpk"}, Keys: []string{"EAN"},
		Above:  map[string][]string{"ACODE_Val_Total": {"100000"}, "Peso": {"1.5"}},
		Below:  map[string][]string{"ACODE_Val_Total": {"0"}},
		Future: []string{"Data"}, FutureAfter: "2025-08-07",
		DailyTotals: []DailyTotalSpec{{Value: "ACODE_Val_Total", Date: "Data"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := [][][]byte{
		row("1", "100000.00", "11111111000111", "2025-08-06", "789", "1.5", "18446744073709551615"),
		row("2", "100000.01", "11111111000111", "2025-08-07", "790", "2.25", "18446744073709551615"),
		row("3", "-5.50", "NULL", "2025-08-08", "NULL", "-1", "1"),
		row("3", "0.49", "22222222000122", "0000-00-00", "789", "NULL", "NULL"),
	}
	w1, w2 := g.NewWorker(), g.NewWorker()
	for i, r := range rows {
		if i%2 == 0 {
			w1.Observe(r)
		} else {
			w2.Observe(r)
		}
	}
	g.Add(w1)
	g.Add(w2)
	s := g.Result()
	if s.Rows != 4 {
		t.Fatalf("rows %d, want 4", s.Rows)
	}
	val, _ := s.Column("acode_val_total")
	if val.Sum != "199995.00" || val.Min != "-5.50" || val.Max != "100000.01" || val.Negatives != 1 {
		t.Errorf("ACODE_Val_Total sum %s min %s max %s negatives %d", val.Sum, val.Min, val.Max, val.Negatives)
	}
	if val.Above["100000"] != 1 || val.Below["0"] != 1 {
		t.Errorf("above 100000: %d (want 1: 100000.00 is not above), below 0: %d", val.Above["100000"], val.Below["0"])
	}
	big, _ := s.Column("Big")
	if big.Sum != "36893488147419103231" || big.Max != "18446744073709551615" {
		t.Errorf("unsigned bigint sum %s max %s: must not overflow", big.Sum, big.Max)
	}
	peso, _ := s.Column("Peso")
	if peso.Sum != "2.75" || peso.Above["1.5"] != 1 || peso.Nulls != 1 {
		t.Errorf("double sum %s above %v nulls %d", peso.Sum, peso.Above, peso.Nulls)
	}
	data, _ := s.Column("Data")
	if data.Nulls != 0 || data.Min != "2025-08-06" || data.Max != "2025-08-08" || data.Future != 1 {
		t.Errorf("Data nulls %d (a zero date is the encoder's to count) min %s max %s future %d", data.Nulls, data.Min, data.Max, data.Future)
	}
	cnpj, _ := s.Column("CNPJ")
	if cnpj.Nulls != 1 || cnpj.Distinct != 2 || len(cnpj.Sketch) == 0 {
		t.Errorf("CNPJ nulls %d distinct %d sketch %d bytes", cnpj.Nulls, cnpj.Distinct, len(cnpj.Sketch))
	}
	if s.Unique == nil || s.Unique.Distinct != 3 || s.Unique.Duplicate != 1 {
		t.Errorf("unique %+v, want 3 distinct and 1 duplicate row", s.Unique)
	}
	if s.KeyCounts["EAN"] != 2 {
		t.Errorf("EAN key count %d, want 2", s.KeyCounts["EAN"])
	}
	want := map[string]string{"2025-08-06": "100000.00", "2025-08-07": "100000.01", "2025-08-08": "-5.50"}
	if fmt.Sprint(s.DailyTotals[0].Totals) != fmt.Sprint(want) {
		t.Errorf("daily totals %v, want %v", s.DailyTotals[0].Totals, want)
	}
}

func TestKeySet_MissingCountsValuesAndRows(t *testing.T) {
	t.Parallel()
	tbl := schema.Table{Name: "t", Columns: []schema.Column{{Name: "EAN", DataType: "varchar"}}}
	diario, _ := NewGatherer(tbl, Spec{Keys: []string{"EAN"}})
	produtos, _ := NewGatherer(tbl, Spec{Keys: []string{"EAN"}})
	wd, wp := diario.NewWorker(), produtos.NewWorker()
	for _, e := range []string{"1", "1", "2", "3", "3", "3"} {
		wd.Observe(row(e))
	}
	for _, e := range []string{"1", "4"} {
		wp.Observe(row(e))
	}
	diario.Add(wd)
	produtos.Add(wp)
	values, rows := diario.Keys("ean").Missing(produtos.Keys("EAN"))
	if values != 2 || rows != 4 {
		t.Fatalf("missing %d values in %d rows, want 2 values (2, 3) in 4 rows", values, rows)
	}
}

func TestGatherer_HyperLogLogWithinTwoPercent(t *testing.T) {
	t.Parallel()
	tbl := schema.Table{Name: "t", Columns: []schema.Column{{Name: "k", DataType: "varchar"}}}
	g, _ := NewGatherer(tbl, Spec{Distinct: []string{"k"}})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := g.NewWorker()
			for i := w; i < 200_000; i += 4 {
				wk.Observe(row(strconv.Itoa(i % 100_000)))
			}
			g.Add(wk)
		}()
	}
	wg.Wait()
	c, _ := g.Result().Column("k")
	if c.Distinct < 98_000 || c.Distinct > 102_000 {
		t.Fatalf("distinct estimate %d, want 100000 within 2%%", c.Distinct)
	}
}

func TestNewGatherer_RejectsUnknownColumnsAndBadThresholds(t *testing.T) {
	t.Parallel()
	for name, spec := range map[string]Spec{
		"unknown distinct":  {Distinct: []string{"nope"}},
		"threshold on text": {Above: map[string][]string{"CNPJ": {"1"}}},
		"bad threshold":     {Above: map[string][]string{"ACODE_Val_Total": {"lots"}}},
		"future on number":  {Future: []string{"idpk"}, FutureAfter: "2025-01-01"},
	} {
		if _, err := NewGatherer(diarioTable(), spec); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseUnscaled(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in    string
		scale int
		want  string
	}{
		{"123.45", 2, "12345"}, {"-0.01", 2, "-1"}, {"7", 0, "7"}, {"7", 2, "700"},
		{"99999999999999999999.9999", 4, "999999999999999999999999"},
	} {
		n, ok := parseUnscaled([]byte(c.in), c.scale)
		if !ok || n.bigInt().String() != c.want {
			t.Errorf("parseUnscaled(%q, %d) = %v %v, want %s", c.in, c.scale, n.bigInt(), ok, c.want)
		}
	}
	if _, ok := parseUnscaled([]byte("1e5"), 0); ok {
		t.Error("1e5 parsed as an exact number")
	}
}

// BenchmarkObserve measures the per-row cost on diario-shaped rows with
// the seed's rules: compare with the sync's per-row time.
func BenchmarkObserve(b *testing.B) {
	g, err := NewGatherer(diarioTable(), Spec{
		Distinct: []string{"CNPJ", "EAN"}, Keys: []string{"EAN"},
		Above: map[string][]string{"ACODE_Val_Total": {"100000"}}, Below: map[string][]string{"ACODE_Val_Total": {"0"}},
		Future: []string{"Data"}, FutureAfter: "2025-08-07",
		DailyTotals: []DailyTotalSpec{{Value: "ACODE_Val_Total", Date: "Data"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][][]byte, 4096)
	for i := range rows {
		rows[i] = row(strconv.Itoa(i), fmt.Sprintf("%d.%02d", r.IntN(5000), r.IntN(100)), fmt.Sprintf("%014d", r.IntN(5000)),
			fmt.Sprintf("2025-08-%02d", 1+r.IntN(7)), fmt.Sprintf("789%010d", r.IntN(20000)), "1.25", strconv.Itoa(r.IntN(1e6)))
	}
	w := g.NewWorker()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		w.Observe(rows[i%len(rows)])
	}
}
