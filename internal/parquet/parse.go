package parquet

import (
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// Reasons a value is rejected; they end up in ValueError.Err.
var (
	errSyntax     = errors.New("not a valid value for the column type")
	errRange      = errors.New("out of range for the column type")
	errZeroInDate = errors.New("date with a zero month or day has no calendar form")
	errTimeOfDay  = errors.New("TIME outside 00:00:00..23:59:59.999999 cannot be a Parquet TIME")
	errUTF8       = errors.New("text is not valid UTF-8")
	errNotBoolean = errors.New("only 0 and 1 convert to a BOOLEAN override")
	errGeometry   = errors.New("not a MySQL geometry value (4-byte SRID + WKB)")
)

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86_400 * microsPerSecond
)

// bstr views b as a string without copying; only for calls that do not keep
// the string (strconv keeps a copy in its errors, never the original).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// parseUint parses unsigned decimal digits, rejecting overflow.
func parseUint(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, errSyntax
	}
	var u uint64
	for _, c := range b {
		d := uint64(c - '0')
		if d > 9 {
			return 0, errSyntax
		}
		if u > (math.MaxUint64-d)/10 {
			return 0, errRange
		}
		u = u*10 + d
	}
	return u, nil
}

// parseInt parses a signed decimal integer as MySQL prints it.
func parseInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg || len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	u, err := parseUint(b)
	if err != nil {
		return 0, err
	}
	if neg {
		if u > 1<<63 {
			return 0, errRange
		}
		return -int64(u), nil
	}
	if u > math.MaxInt64 {
		return 0, errRange
	}
	return int64(u), nil
}

// decimalText is a DECIMAL's text split into sign and digits: "-0012.30"
// gives neg, int "12", frac "30".
type decimalText struct {
	neg       bool
	int, frac []byte
}

func splitDecimal(b []byte, precision, scale int) (decimalText, error) {
	var d decimalText
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		d.neg, b = b[0] == '-', b[1:]
	}
	d.int = b
	for i, c := range b {
		if c == '.' {
			d.int, d.frac = b[:i], b[i+1:]
			break
		}
	}
	if len(d.int) == 0 && len(d.frac) == 0 {
		return d, errSyntax
	}
	for len(d.int) > 0 && d.int[0] == '0' {
		d.int = d.int[1:]
	}
	for _, part := range [][]byte{d.int, d.frac} {
		for _, c := range part {
			if c-'0' > 9 {
				return d, errSyntax
			}
		}
	}
	if len(d.frac) > scale {
		// MySQL prints exactly `scale` digits; more would be rounding.
		return d, errRange
	}
	if len(d.int) > precision-scale {
		return d, errRange
	}
	return d, nil
}

// unscaled64 returns the unscaled value of d at scale, for precision <= 18.
func (d decimalText) unscaled64(scale int) int64 {
	var u int64
	for _, c := range d.int {
		u = u*10 + int64(c-'0')
	}
	for _, c := range d.frac {
		u = u*10 + int64(c-'0')
	}
	for i := len(d.frac); i < scale; i++ {
		u *= 10
	}
	if d.neg {
		return -u
	}
	return u
}

// digits is the count of significant digits of the unscaled value.
func (d decimalText) digits(scale int) int { return len(d.int) + scale }

// appendUnscaledDigits appends the unscaled value's digits (no sign) to dst.
func (d decimalText) appendUnscaledDigits(dst []byte, scale int) []byte {
	dst = append(dst, d.int...)
	dst = append(dst, d.frac...)
	for i := len(d.frac); i < scale; i++ {
		dst = append(dst, '0')
	}
	if len(dst) == 0 {
		dst = append(dst, '0')
	}
	return dst
}

func parseFloat(b []byte, bits int) (float64, error) {
	f, err := strconv.ParseFloat(bstr(b), bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, errRange
		}
		return 0, errSyntax
	}
	return f, nil
}

// num2 and num4 parse fixed-width digit fields; -1 means not digits.
func num2(b []byte) int {
	d0, d1 := int(b[0])-'0', int(b[1])-'0'
	if uint(d0) > 9 || uint(d1) > 9 {
		return -1
	}
	return d0*10 + d1
}

func num4(b []byte) int {
	hi, lo := num2(b), num2(b[2:])
	if hi < 0 || lo < 0 {
		return -1
	}
	return hi*100 + lo
}

// parseDate parses "YYYY-MM-DD" into days since 1970-01-01. null is true for
// MySQL's zero date "0000-00-00", which has no calendar meaning.
func parseDate(b []byte) (days int64, null bool, err error) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false, errSyntax
	}
	y, m, d := num4(b), num2(b[5:]), num2(b[8:])
	if y < 0 || m < 0 || d < 0 {
		return 0, false, errSyntax
	}
	if y == 0 && m == 0 && d == 0 {
		return 0, true, nil
	}
	if m == 0 || d == 0 {
		return 0, false, errZeroInDate
	}
	if m > 12 || d > daysInMonth(y, m) {
		return 0, false, errRange
	}
	return daysFromCivil(y, m, d), false, nil
}

func daysInMonth(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// daysFromCivil converts a proleptic Gregorian date to days since the Unix
// epoch (Howard Hinnant's algorithm), without time.Date's allocation-free but
// slower normalisation.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseFraction parses ".ffffff" (1 to 6 digits) into microseconds; empty
// input is zero.
func parseFraction(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if b[0] != '.' || len(b) < 2 || len(b) > 7 {
		return 0, errSyntax
	}
	var us int64
	for _, c := range b[1:] {
		if c-'0' > 9 {
			return 0, errSyntax
		}
		us = us*10 + int64(c-'0')
	}
	for i := len(b) - 1; i < 6; i++ {
		us *= 10
	}
	return us, nil
}

// parseDateTime parses "YYYY-MM-DD hh:mm:ss[.ffffff]" into microseconds since
// the epoch of the same wall clock (DATETIME) or of UTC (TIMESTAMP, which the
// reader's session returns in UTC). Zero datetimes are null.
func parseDateTime(b []byte) (micros int64, null bool, err error) {
	if len(b) < 19 || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return 0, false, errSyntax
	}
	h, m, s := num2(b[11:]), num2(b[14:]), num2(b[17:])
	if h < 0 || m < 0 || s < 0 {
		return 0, false, errSyntax
	}
	if h > 23 || m > 59 || s > 59 {
		return 0, false, errRange
	}
	frac, err := parseFraction(b[19:])
	if err != nil {
		return 0, false, err
	}
	// The date last, so that errZeroInDate (which exact mode turns into a
	// counted NULL) is only ever said of an otherwise well-formed value.
	days, null, err := parseDate(b[:10])
	if err != nil || null {
		return 0, null, err
	}
	return days*microsPerDay + int64(h*3600+m*60+s)*microsPerSecond + frac, false, nil
}

// parseTime parses MySQL's TIME "[-]hhh:mm:ss[.ffffff]" (a signed duration of
// up to 838 hours) into microseconds.
func parseTime(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	colon := -1
	for i, c := range b {
		if c == ':' {
			colon = i
			break
		}
	}
	if colon < 1 || colon > 3 || len(b) < colon+6 || b[colon+3] != ':' {
		return 0, errSyntax
	}
	h, err := parseUint(b[:colon])
	if err != nil {
		return 0, errSyntax
	}
	m, s := num2(b[colon+1:]), num2(b[colon+4:])
	if m < 0 || s < 0 {
		return 0, errSyntax
	}
	if m > 59 || s > 59 {
		return 0, errRange
	}
	frac, err := parseFraction(b[colon+6:])
	if err != nil {
		return 0, err
	}
	us := (int64(h)*3600+int64(m*60+s))*microsPerSecond + frac
	if neg {
		us = -us
	}
	return us, nil
}

// unscaledFast parses the common form of MySQL's DECIMAL text ("-123.45":
// an optional minus, digits, an optional point and at most scale digits,
// fitting precision) straight into its unscaled value at scale, in one pass
// and for precision <= 18. ok is false for anything else, and the caller
// takes splitDecimal's checked path, which names the error.
//
// The integer and fraction digits have a loop each, so the loops test only
// for a digit: decimals are half of a typical row's columns. Once the digit
// counts are checked, at most precision <= 18 significant digits reached u,
// so it did not overflow.
func unscaledFast(b []byte, precision, scale int) (v int64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	i := 0
	for i < len(b) && b[i] == '0' { // leading zeros are not significant
		i++
	}
	lead := i
	var u int64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		u = u*10 + int64(d)
	}
	if i-lead > precision-scale {
		return 0, false // u may have wrapped too: it is not used
	}
	intEnd := i
	frac := 0
	if i < len(b) {
		if b[i] != '.' {
			return 0, false
		}
		frac = len(b) - i - 1
		if frac > scale {
			return 0, false
		}
		for _, c := range b[i+1:] {
			d := c - '0'
			if d > 9 {
				return 0, false
			}
			u = u*10 + int64(d)
		}
	}
	if intEnd == 0 && frac == 0 {
		return 0, false // no digit at all: "", "-", "."
	}
	for range scale - frac {
		u *= 10
	}
	if neg {
		u = -u
	}
	return u, true
}
