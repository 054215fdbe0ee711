package stats

import (
	"fmt"
	"math/big"
	"strings"
)

// num is an exact number held as an unscaled integer (value * 10^scale of
// its column): in an int64 when it fits, else in a big.Int.
type num struct {
	small int64
	big   *big.Int // non-nil when the value does not fit small
}

// parseUnscaled parses MySQL's text form of an integer or DECIMAL value
// ("-12345.67") into its unscaled integer at scale, without allocating when
// it has at most 18 digits. ok is false on text that is not a number.
func parseUnscaled(b []byte, scale int) (n num, ok bool) {
	if len(b) == 0 {
		return num{}, false
	}
	neg := false
	i := 0
	switch b[0] {
	case '-':
		neg, i = true, 1
	case '+':
		i = 1
	}
	var v int64
	digits, frac, seenDot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && !seenDot {
			seenDot = true
			continue
		}
		if c < '0' || c > '9' {
			return num{}, false
		}
		if seenDot {
			frac++
			if frac > scale {
				continue // more fraction digits than the scale: truncated (MySQL never sends them)
			}
		}
		digits++
		if digits > 18 {
			return parseBig(b, scale)
		}
		v = v*10 + int64(c-'0')
	}
	for ; frac < scale; frac++ {
		if v > (1<<63-1)/10 {
			return parseBig(b, scale)
		}
		v *= 10
	}
	if digits == 0 {
		return num{}, false
	}
	if neg {
		v = -v
	}
	return num{small: v}, true
}

// parseFixed is parseUnscaled for the one shape MySQL sends for an
// integer or a DECIMAL(p,scale) column, and the per-row path takes: an
// optional '-', digits, and when scale > 0 a '.' and exactly scale digits,
// at most 18 digits in all. Such a value fits an int64 and needs no
// padding, so the loops check each byte once and keep no count. ok is
// false on anything else, which parseUnscaled then takes; the values both
// accept parse the same (TestParseFixed_AgreesWithParseUnscaled).
func parseFixed(b []byte, scale int) (v int64, ok bool) {
	d := b
	neg := len(d) > 0 && d[0] == '-'
	if neg {
		d = d[1:]
	}
	whole, frac := d, d[:0]
	if scale > 0 {
		dot := len(d) - 1 - scale
		if dot < 1 || d[dot] != '.' {
			return 0, false
		}
		whole, frac = d[:dot], d[dot+1:]
	}
	if len(whole) == 0 || len(whole)+len(frac) > 18 {
		return 0, false
	}
	for _, c := range whole {
		if c-'0' > 9 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	for _, c := range frac {
		if c-'0' > 9 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseBig is parseUnscaled for values beyond 18 digits (BIGINT UNSIGNED,
// DECIMAL(65,s)).
func parseBig(b []byte, scale int) (num, bool) {
	s := string(b)
	intPart, fracPart, _ := strings.Cut(s, ".")
	if len(fracPart) > scale {
		fracPart = fracPart[:scale]
	}
	fracPart += strings.Repeat("0", scale-len(fracPart))
	v, ok := new(big.Int).SetString(intPart+fracPart, 10)
	if !ok {
		return num{}, false
	}
	return num{big: v}, true
}

func (n num) bigInt() *big.Int {
	if n.big != nil {
		return n.big
	}
	return big.NewInt(n.small)
}

func (n num) sign() int {
	if n.big != nil {
		return n.big.Sign()
	}
	switch {
	case n.small < 0:
		return -1
	case n.small > 0:
		return 1
	}
	return 0
}

// cmp compares two nums.
func (n num) cmp(o num) int {
	if n.big == nil && o.big == nil {
		switch {
		case n.small < o.small:
			return -1
		case n.small > o.small:
			return 1
		}
		return 0
	}
	return n.bigInt().Cmp(o.bigInt())
}

// less reports n < o, without leaving the int64s when both fit.
func (n num) less(o num) bool {
	if n.big == nil && o.big == nil {
		return n.small < o.small
	}
	return n.cmp(o) < 0
}

// exactSum adds int64s without overflow: an int64 fast path that spills
// into a big.Int when it would wrap.
type exactSum struct {
	small int64
	big   *big.Int
}

func (s *exactSum) add(n num) {
	if n.big != nil {
		s.spill().Add(s.big, n.big)
		return
	}
	s.addSmall(n.small)
}

func (s *exactSum) addSmall(x int64) {
	r := s.small + x
	if (s.small^r)&(x^r) < 0 { // overflow
		s.spill().Add(s.big, big.NewInt(x))
		return
	}
	s.small = r
}

// addWide adds the 128-bit two's complement integer hi:lo.
func (s *exactSum) addWide(hi, lo uint64) {
	if int64(hi) == int64(lo)>>63 { // it fits an int64
		s.addSmall(int64(lo))
		return
	}
	v := big.NewInt(int64(hi))
	v.Lsh(v, 64).Add(v, new(big.Int).SetUint64(lo))
	s.add(num{big: v})
}

func (s *exactSum) spill() *big.Int {
	if s.big == nil {
		s.big = new(big.Int)
	}
	s.big.Add(s.big, big.NewInt(s.small))
	s.small = 0
	return s.big
}

func (s *exactSum) merge(o *exactSum) {
	s.add(num{small: o.small})
	if o.big != nil {
		s.add(num{big: o.big})
	}
}

func (s *exactSum) value() *big.Int {
	v := big.NewInt(s.small)
	if s.big != nil {
		v.Add(v, s.big)
	}
	return v
}

// formatScaled renders an unscaled integer at scale as decimal text.
func formatScaled(v *big.Int, scale int) string {
	s := new(big.Int).Abs(v).String()
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if v.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// thresholdAt converts a decimal threshold to the unscaled integer at scale
// that makes "value > t" (above) or "value < t" (below) an integer
// comparison: floor for above, ceiling for below.
func thresholdAt(t string, scale int, above bool) (num, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(t))
	if !ok {
		return num{}, fmt.Errorf("threshold %q is not a number", t)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int)) // floor division (Denom > 0)
	if !above && m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if q.IsInt64() {
		return num{small: q.Int64()}, nil
	}
	return num{big: q}, nil
}

// ParseDecimal parses decimal text exactly, for rules comparing sums.
func ParseDecimal(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal number", s)
	}
	return r, nil
}
