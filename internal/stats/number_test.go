package stats

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// parseFixed must accept MySQL's own forms and parse every text it accepts
// as parseUnscaled does: random texts over the bytes numbers are made of,
// every length, every dot position, and MySQL's forms of every size.
func TestParseFixed_AgreesWithParseUnscaled(t *testing.T) {
	t.Parallel()
	agree := func(in string, scale int) bool {
		t.Helper()
		got, ok := parseFixed([]byte(in), scale)
		want, wantOK := parseUnscaled([]byte(in), scale)
		if ok && (!wantOK || want.big != nil || want.small != got) {
			t.Errorf("parseFixed(%q, %d) = %d; parseUnscaled: %v %v", in, scale, got, want.bigInt(), wantOK)
		}
		return ok
	}
	r := rand.New(rand.NewPCG(7, 8))
	const alphabet = "0123456789.-+e :/\x00\xff"
	for range 300_000 {
		b := make([]byte, r.IntN(22))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = '0' + byte(r.IntN(10))
			}
		}
		agree(string(b), r.IntN(7))
	}
	for scale := range 7 {
		for whole := 1; whole+scale <= 18; whole++ {
			for range 200 {
				in := mysqlDecimal(r, whole, scale)
				if ok := agree(in, scale); !ok {
					t.Errorf("parseFixed(%q, %d) rejected MySQL's form", in, scale)
				}
			}
		}
	}
}

// mysqlDecimal is a DECIMAL(whole+scale, scale) value as MySQL writes it.
func mysqlDecimal(r *rand.Rand, whole, scale int) string {
	var b strings.Builder
	if r.IntN(2) == 0 {
		b.WriteByte('-')
	}
	w := strconv.FormatUint(r.Uint64()%tenTo(whole), 10)
	if r.IntN(3) == 0 { // the widest value of its length
		w = strings.Repeat("9", whole)
	}
	b.WriteString(w)
	if scale > 0 {
		b.WriteByte('.')
		f := strconv.FormatUint(r.Uint64()%tenTo(scale), 10)
		b.WriteString(strings.Repeat("0", scale-len(f)) + f)
	}
	return b.String()
}

func tenTo(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

func TestParseFixed_EdgeValues(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in    string
		scale int
		want  int64
		ok    bool
	}{
		{"-0.00", 2, 0, true},
		{"0.00", 2, 0, true},
		{"0", 0, 0, true},
		{"-0", 0, 0, true},
		{"7", 0, 7, true},
		{"-7", 0, -7, true},
		{"1.5", 1, 15, true},
		{"123", 0, 123, true},
		{"1234", 0, 1234, true},
		{"18.00", 2, 1800, true},
		{"1234.56", 2, 123456, true},
		{"12345.67", 2, 1234567, true},
		{"-9999999999999.99", 2, -999999999999999, true}, // DECIMAL(15,2)
		{"9999999999999999", 0, 9999999999999999, true},
		{"9999999999999999.99", 2, 999999999999999999, true},
		{"-999999999999999999", 0, -999999999999999999, true}, // 18 digits
		{"-000000000000000000", 0, 0, true},
		{"1.0000", 4, 10000, true},
		{"0.0001", 4, 1, true},
		{"99999999999.9999", 4, 999999999999999, true},
		// Not MySQL's exact form: left to parseUnscaled.
		{"9999999999999999999", 0, 0, false}, // 19 digits
		{"9223372036854775807", 0, 0, false}, // max int64
		{"-9223372036854775808", 0, 0, false},
		{"18446744073709551615", 0, 0, false},
		{"1.5", 2, 0, false},
		{"1.555", 2, 0, false},
		{".50", 2, 0, false},
		{"+5", 0, 0, false},
		{"5.", 0, 0, false},
		{"1e5", 0, 0, false},
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"-.5", 1, 0, false},
		{"12a4.56", 2, 0, false},
		{"1234:56", 2, 0, false},
		{"12.4.56", 2, 0, false},
		{"123 ", 0, 0, false},
		{"12/4", 0, 0, false},
	} {
		got, ok := parseFixed([]byte(c.in), c.scale)
		if got != c.want || ok != c.ok {
			t.Errorf("parseFixed(%q, %d) = %d %v, want %d %v", c.in, c.scale, got, ok, c.want, c.ok)
		}
	}
}
