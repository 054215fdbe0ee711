package parquet

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestUnscaledFast_AgreesWithCheckedPath compares the one-pass decimal
// parser with splitDecimal on hand-picked and random texts: whenever the
// fast path accepts a text, the checked path must accept it with the same
// unscaled value; whatever it declines falls to the checked path anyway.
func TestUnscaledFast_AgreesWithCheckedPath(t *testing.T) {
	t.Parallel()
	type pc struct{ p, s int }
	texts := []string{"0", "0.00", "-0.00", "12.34", "-12.34", "00012.30", "999999999999999.99", "-999999999999999.99",
		"1000000000000000.00", ".5", "5.", "-", "", ".", "1.2.3", "+1.00", "1e5", "12.345", "0000000000000000000001.5",
		"99999999999999999999", "-9223372036854775808", "12a.00", " 1.00"}
	precisions := []pc{{15, 2}, {15, 4}, {5, 2}, {9, 0}, {18, 6}, {18, 0}, {1, 1}}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		p := precisions[r.IntN(len(precisions))]
		v := r.Int64N(2_000_000_000_000) - 1_000_000_000_000
		texts = append(texts, strconv.FormatFloat(float64(v)/100, 'f', r.IntN(p.s+2), 64))
	}
	accepted := 0
	for _, text := range texts {
		for _, p := range precisions {
			fast, ok := unscaledFast([]byte(text), p.p, p.s)
			d, err := splitDecimal([]byte(text), p.p, p.s)
			if !ok {
				continue
			}
			accepted++
			if err != nil {
				t.Errorf("%q DECIMAL(%d,%d): fast path accepts %d, checked path says %v", text, p.p, p.s, fast, err)
				continue
			}
			if want := d.unscaled64(p.s); fast != want {
				t.Errorf("%q DECIMAL(%d,%d): fast path %d, checked path %d", text, p.p, p.s, fast, want)
			}
		}
	}
	if accepted < 10000 {
		t.Errorf("fast path accepted only %d texts: it is not the common path", accepted)
	}
}
