package stats

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/axiomhq/hyperloglog"

	"github.com/acode-dev/acode/internal/schema"
)

// edgeTable has a column for each path of Observe: int64 values held back
// in batches (val, with thresholds and daily totals), values and sums
// beyond int64 (big, huge), a threshold beyond int64 (wide), floats, dates
// and date-times.
func edgeTable() schema.Table {
	return schema.Table{Name: "edge", Columns: []schema.Column{
		{Name: "id", DataType: "bigint", ColumnType: "bigint(20)"},
		{Name: "val", DataType: "decimal", ColumnType: "decimal(15,2)", Precision: 15, Scale: 2},
		{Name: "big", DataType: "bigint", ColumnType: "bigint(20) unsigned", Unsigned: true},
		{Name: "huge", DataType: "decimal", ColumnType: "decimal(65,4)", Precision: 65, Scale: 4},
		{Name: "wide", DataType: "bigint", ColumnType: "bigint(20)"},
		{Name: "peso", DataType: "double", ColumnType: "double"},
		{Name: "data", DataType: "date", ColumnType: "date"},
		{Name: "ts", DataType: "datetime", ColumnType: "datetime"},
		{Name: "ean", DataType: "varchar", ColumnType: "varchar(14)"},
	}}
}

func edgeSpec() Spec {
	return Spec{
		Summarize: []string{"val", "big", "huge", "wide", "peso", "data", "ts"},
		Distinct:  []string{"ean"},
		Above:     map[string][]string{"val": {"100000", "-0.5"}, "big": {"9223372036854775806"}, "wide": {"99999999999999999999"}},
		Below:     map[string][]string{"val": {"0"}, "huge": {"-1.00005"}, "wide": {"-5"}},
		Future:    []string{"data", "ts"}, FutureAfter: "2025-08-07",
		DailyTotals: []DailyTotalSpec{{Value: "val", Date: "data"}, {Value: "id", Date: "ts"}},
	}
}

// edgeValues are the texts each column draws from, the edges first.
var edgeValues = map[string][]string{
	"val": {"-0.00", "0.00", "0.01", "-0.01", "100000.00", "100000.01", "-0.50", "-0.49",
		"9999999999999.99", "-9999999999999.99", "1234.56"},
	"big": {"0", "1", "9223372036854775807", "9223372036854775806", "9223372036854775808", "18446744073709551615",
		"999999999999999999", "1000000000000000000"},
	"huge": {"0.0000", "-0.0000", "-1.0000", "-1.0001", "99999999999999999999999999999999999999999999999999999999999.9999",
		"-99999999999999999999999999999999999999999999999999999999999.9999", "12.3456"},
	"wide": {"-9223372036854775808", "9223372036854775807", "-5", "-6", "0", "-0"},
	"peso": {"1.5", "-2.25", "0", "1e3"}, // exact in binary: float sums do not depend on the workers' split
	"data": {"2025-08-01", "2025-08-07", "2025-08-08", "0000-00-00", "1970-01-01", "9999-12-31"},
	"ts":   {"2025-08-07 23:59:59", "2025-08-08 00:00:00", "0000-00-00 00:00:00", "2025-08-01 12:00:00.5"},
}

// edgeRows are n rows of edge values, random ones and NULLs.
func edgeRows(r *rand.Rand, n int) [][][]byte {
	tbl := edgeTable()
	rows := make([][][]byte, n)
	for i := range rows {
		vals := make([]string, len(tbl.Columns))
		for c, col := range tbl.Columns {
			vals[c] = edgeValue(r, col.Name, i)
		}
		rows[i] = row(vals...)
	}
	return rows
}

func edgeValue(r *rand.Rand, column string, i int) string {
	if r.IntN(10) == 0 && column != "id" {
		return "NULL"
	}
	if vs := edgeValues[column]; len(vs) > 0 && r.IntN(3) == 0 {
		return vs[r.IntN(len(vs))]
	}
	switch column {
	case "id":
		return strconv.Itoa(i)
	case "val":
		return fmt.Sprintf("%d.%02d", r.IntN(200_000)-1000, r.IntN(100))
	case "big", "wide":
		return strconv.FormatUint(r.Uint64()>>r.IntN(64), 10)
	case "huge":
		return fmt.Sprintf("%d.%04d", r.Int64()>>r.IntN(64), r.IntN(10_000))
	case "peso":
		return strconv.FormatFloat(float64(r.IntN(1000))/8, 'g', -1, 64)
	case "data":
		return fmt.Sprintf("2025-08-%02d", 1+r.IntN(20))
	case "ts":
		return fmt.Sprintf("2025-08-%02d %02d:00:00", 1+r.IntN(20), r.IntN(24))
	case "ean":
		return fmt.Sprintf("789%010d", r.IntN(3000))
	}
	panic(column)
}

// Every statistic must be what a direct computation over the texts gives,
// whatever batch boundaries the workers' rows fall on: exact sums beyond
// int64, min and max at the int64 edges, negative zero, thresholds, NULLs
// and zero dates, daily totals, future dates, and the sketch Insert
// would build.
func TestObserve_MatchesDirectComputation(t *testing.T) {
	t.Parallel()
	for _, split := range [][]int{{0}, {1}, {255}, {256}, {257}, {100, 0, 1000}, {511, 513, 1}} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(uint64(len(split)), uint64(split[0])))
			g, err := NewGatherer(edgeTable(), edgeSpec())
			if err != nil {
				t.Fatal(err)
			}
			var all [][][]byte
			for _, n := range split {
				w := g.NewWorker()
				rows := edgeRows(r, n)
				for _, rw := range rows {
					w.Observe(rw)
				}
				all = append(all, rows...)
				g.Add(w)
			}
			checkStream(t, g.Result(), all)
		})
	}
}

func checkStream(t *testing.T, got *Stream, rows [][][]byte) {
	t.Helper()
	tbl, spec := edgeTable(), edgeSpec()
	if got.Rows != int64(len(rows)) {
		t.Errorf("rows %d, want %d", got.Rows, len(rows))
	}
	for c, col := range tbl.Columns {
		gc, _ := got.Column(col.Name)
		want := directColumn(tbl, spec, c, rows)
		if fmt.Sprint(*gc) != fmt.Sprint(want) {
			t.Errorf("column %s:\n got %+v\nwant %+v", col.Name, *gc, want)
		}
	}
	for k, d := range spec.DailyTotals {
		want := directDaily(tbl, d, rows)
		if fmt.Sprint(got.DailyTotals[k].Totals) != fmt.Sprint(want) {
			t.Errorf("daily %s by %s:\n got %v\nwant %v", d.Value, d.Date, got.DailyTotals[k].Totals, want)
		}
	}
}

// directColumn computes column c's statistics from the texts with big.Rat.
func directColumn(tbl schema.Table, spec Spec, c int, rows [][][]byte) Column {
	col := tbl.Columns[c]
	kind := KindOf(col)
	out := Column{Name: col.Name, Kind: kind}
	var vals []*big.Rat
	var floats []float64
	var texts []string
	for _, rw := range rows {
		v := rw[c]
		switch {
		case v == nil:
			out.Nulls++
		case kind.Temporal() && strings.HasPrefix(string(v), "0000-00-00"):
			// no day: not summarised; the encoder counts it as nulled
		case kind == KindFloat:
			f, _ := strconv.ParseFloat(string(v), 64)
			floats = append(floats, f)
		case kind.Numeric():
			x, _ := new(big.Rat).SetString(string(v))
			vals = append(vals, x)
		default:
			texts = append(texts, string(v))
		}
	}
	if !slices.Contains(spec.Summarize, col.Name) {
		if col.Name == "ean" {
			sk, _ := hyperloglog.NewSketch(14, false)
			for _, t := range texts {
				sk.Insert([]byte(t))
			}
			out.Distinct = sk.Estimate()
			out.Sketch, _ = sk.MarshalBinary()
		}
		return out
	}
	switch {
	case kind == KindFloat:
		out.Sum = "0"
		if len(floats) > 0 {
			lo, hi, sum := floats[0], floats[0], 0.0
			for _, f := range floats {
				lo, hi, sum = min(lo, f), max(hi, f), sum+f
				if f < 0 {
					out.Negatives++
				}
			}
			out.Min, out.Max, out.Sum = formatFloat(lo), formatFloat(hi), formatFloat(sum)
		}
	case kind.Numeric():
		sum := new(big.Rat)
		for _, x := range vals {
			sum.Add(sum, x)
			if x.Sign() < 0 {
				out.Negatives++
			}
		}
		out.Sum = sum.FloatString(col.Scale)
		if len(vals) > 0 {
			sorted := slices.SortedFunc(slices.Values(vals), (*big.Rat).Cmp)
			out.Min, out.Max = sorted[0].FloatString(col.Scale), sorted[len(sorted)-1].FloatString(col.Scale)
		}
		out.Above = directThresholds(spec.Above[col.Name], vals, 1)
		out.Below = directThresholds(spec.Below[col.Name], vals, -1)
	case len(texts) > 0:
		sort.Strings(texts)
		out.Min, out.Max = texts[0], texts[len(texts)-1]
		for _, v := range texts {
			if v[:10] > spec.FutureAfter {
				out.Future++
			}
		}
	}
	return out
}

// directThresholds counts the values whose comparison with each
// threshold is sign: 1 for above, -1 for below.
func directThresholds(ts []string, vals []*big.Rat, sign int) map[string]int64 {
	if len(ts) == 0 {
		return nil
	}
	out := map[string]int64{}
	for _, s := range ts {
		t, _ := new(big.Rat).SetString(s)
		out[s] = 0
		for _, x := range vals {
			if x.Cmp(t) == sign {
				out[s]++
			}
		}
	}
	return out
}

func directDaily(tbl schema.Table, d DailyTotalSpec, rows [][][]byte) map[string]string {
	vi, di := indexOf(tbl, d.Value), indexOf(tbl, d.Date)
	sums := map[string]*big.Rat{}
	for _, rw := range rows {
		v, day := rw[vi], rw[di]
		if v == nil || day == nil || bytes.HasPrefix(day, []byte("0000-00-00")) {
			continue
		}
		x, _ := new(big.Rat).SetString(string(v))
		k := string(day[:10])
		if sums[k] == nil {
			sums[k] = new(big.Rat)
		}
		sums[k].Add(sums[k], x)
	}
	out := map[string]string{}
	for k, s := range sums {
		out[k] = s.FloatString(tbl.Columns[vi].Scale)
	}
	return out
}

// A batch's sum must stay exact past int64 in either direction, and its
// min and max must merge with values beyond int64 already seen.
func TestPendingNumbers_FlushAtInt64Edges(t *testing.T) {
	t.Parallel()
	const maxI, minI = int64(1<<63 - 1), int64(-1 << 63)
	huge, _ := new(big.Int).SetString("100000000000000000000", 10)
	for _, c := range []struct {
		name     string
		before   []num // observed one by one first
		batch    []int64
		min, max string
		sum      string
	}{
		{"empty batch", nil, nil, "", "", "0"},
		{"overflow up", nil, []int64{maxI, maxI, 1}, "1", "9223372036854775807", "18446744073709551615"},
		{"overflow down", nil, []int64{minI, minI, -1}, "-9223372036854775808", "-1", "-18446744073709551617"},
		{"cancels out", nil, []int64{maxI, minI, maxI, minI}, "-9223372036854775808", "9223372036854775807", "-2"},
		{"after big values", []num{{big: huge}, {big: new(big.Int).Neg(huge)}}, []int64{5, -5},
			"-100000000000000000000", "100000000000000000000", "0"},
		{"after small values", []num{{small: 3}, {small: -7}}, []int64{2, -8, 4},
			"-8", "4", "-6"},
		{"big min, batch raises the max", []num{{big: new(big.Int).Neg(huge)}, {small: 3}}, []int64{10, 2},
			"-100000000000000000000", "10", "-99999999999999999985"},
		{"big max, batch lowers the min", []num{{big: huge}, {small: 3}}, []int64{-10, 2},
			"-10", "100000000000000000000", "99999999999999999995"},
	} {
		var s numStats
		s.above, s.below = make([]int64, 1), make([]int64, 1)
		for _, n := range c.before {
			s.observe(n, []num{{small: 0}}, []num{{small: 0}})
		}
		var p pendingNumbers
		for _, x := range c.batch {
			p.push(x)
		}
		p.flush(&s, []int64{0}, []int64{0})
		if p.n != 0 {
			t.Errorf("%s: %d values still held back", c.name, p.n)
		}
		var neg, pos int64
		for _, n := range c.before {
			neg += int64(max(0, -n.sign()))
			pos += int64(max(0, n.sign()))
		}
		for _, x := range c.batch {
			if x < 0 {
				neg++
			}
			if x > 0 {
				pos++
			}
		}
		gotMin, gotMax := "", ""
		if s.count > 0 {
			gotMin, gotMax = s.min.bigInt().String(), s.max.bigInt().String()
		}
		if gotMin != c.min || gotMax != c.max || s.sum.value().String() != c.sum {
			t.Errorf("%s: min %s max %s sum %s, want %s %s %s", c.name, gotMin, gotMax, s.sum.value(), c.min, c.max, c.sum)
		}
		if s.count != int64(len(c.before)+len(c.batch)) || s.negatives != neg || s.below[0] != neg || s.above[0] != pos {
			t.Errorf("%s: count %d negatives %d above 0 %d below 0 %d, want %d %d %d %d", c.name,
				s.count, s.negatives, s.above[0], s.below[0], len(c.before)+len(c.batch), neg, pos, neg)
		}
	}
}

// textKey order must be bytes.Compare's on every length it packs, with
// zero bytes and high bytes, equal prefixes and one text a prefix of
// another.
func TestTextKey_OrdersAsBytesCompare(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	alphabet := []byte{0, 1, '0', '9', '-', 0x7f, 0x80, 0xff}
	text := func() []byte {
		b := make([]byte, 6+r.IntN(13)) // 6 to 18 bytes: some not packed
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	for range 200_000 {
		a, b := text(), text()
		if r.IntN(4) == 0 { // a prefix of b, or equal
			b = append(append([]byte{}, a...), b[:r.IntN(3)]...)
		}
		ka, okA := textKeyOf(a)
		kb, okB := textKeyOf(b)
		if okA != (len(a) >= 8 && len(a) <= 16) || okB != (len(b) >= 8 && len(b) <= 16) {
			t.Fatalf("textKeyOf(%q) ok %v, textKeyOf(%q) ok %v", a, okA, b, okB)
		}
		if !okA || !okB {
			continue
		}
		if want := bytes.Compare(a, b) < 0; ka.less(kb) != want {
			t.Fatalf("textKey(%q).less(%q) = %v, want %v", a, b, ka.less(kb), want)
		}
	}
}

// textStats must keep bytes.Compare's min and max whether the values
// pack into textKeys or not, in any mix.
func TestTextStats_MinMaxOfMixedLengths(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 14))
	vals := []string{"2025-08-07", "2025-08-07 10:00:00", "2025-08-06", "2025-08-07 09:59:59.999999",
		"2025-08", "2025-08-07\x00", "9999-12-31", "1000-01-01", "1000-01-01 00:00:00", "2025-08-071"}
	for range 2000 {
		var s textStats
		var seen []string
		for range 1 + r.IntN(8) {
			v := vals[r.IntN(len(vals))]
			s.observe([]byte(v))
			seen = append(seen, v)
		}
		sort.Strings(seen)
		if string(s.min) != seen[0] || string(s.max) != seen[len(seen)-1] {
			t.Fatalf("after %q: min %q max %q", seen, s.min, s.max)
		}
	}
}
