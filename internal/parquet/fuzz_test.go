package parquet

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/schema"
)

// The fuzz targets feed arbitrary text to the encoder, one type family per
// target, and hold it to an independent reading of MySQL's text form: the
// encoder either rejects the value with a ValueError, or writes a file
// whose value, read back with parquet-go, is the one the text means. It
// never panics and never writes something else. Their seed corpus (the
// f.Add values) runs in every `go test`; `go test -fuzz FuzzEncodeDecimal
// ./internal/parquet` explores further.

// encodeOne writes text as the single value of column c and returns what a
// reader gets back (ok false when the encoder refused it, null when the file
// holds NULL).
func encodeOne(t *testing.T, c schema.Column, text []byte) (v pq.Value, ok bool) {
	t.Helper()
	s, err := NewSchema(schema.Table{Name: "t", Columns: []schema.Column{c}}, ModeExact)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, s, time.Unix(0, 0), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([][]byte{text}); err != nil {
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Column != c.Name {
			t.Fatalf("%q: error %v is not a ValueError naming the column", text, err)
		}
		return pq.Value{}, false
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("%q: written file does not open: %v", text, err)
	}
	rows := make([]pq.Row, 1)
	r := pq.NewReader(f)
	defer r.Close()
	if n, _ := r.ReadRows(rows); n != 1 {
		t.Fatalf("%q: read %d rows, want 1", text, n)
	}
	return rows[0][0], true
}

func FuzzEncodeInteger(f *testing.F) {
	for _, s := range []string{"0", "-128", "127", "128", "255", "-1", "+5", "18446744073709551615", "18446744073709551616",
		"-9223372036854775808", "9223372036854775807", "", "-", "1e3", " 1", "00012"} {
		f.Add(s)
	}
	types := []struct {
		dataType string
		unsigned bool
		min, max *big.Int
	}{
		{"tinyint", false, big.NewInt(-128), big.NewInt(127)}, {"tinyint", true, big.NewInt(0), big.NewInt(255)},
		{"mediumint", false, big.NewInt(-8388608), big.NewInt(8388607)}, {"int", true, big.NewInt(0), big.NewInt(4294967295)},
		{"bigint", false, big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)},
		{"bigint", true, big.NewInt(0), new(big.Int).SetUint64(math.MaxUint64)},
	}
	intText := regexp.MustCompile(`^[+-]?[0-9]+$`)
	f.Fuzz(func(t *testing.T, text string) {
		for _, ty := range types {
			c := col("n", ty.dataType, ty.dataType, ty.unsigned, 0, 0)
			v, ok := encodeOne(t, c, []byte(text))
			want, parsed := new(big.Int).SetString(text, 10)
			legal := intText.MatchString(text) && parsed && want.Cmp(ty.min) >= 0 && want.Cmp(ty.max) <= 0
			if ty.dataType == "bigint" && ty.unsigned && strings.ContainsAny(text, "+-") {
				legal = false // MySQL never sends a sign for an unsigned BIGINT; its parser takes digits only
			}
			if ok != legal {
				t.Fatalf("%s unsigned=%v %q: accepted %v, legal %v", ty.dataType, ty.unsigned, text, ok, legal)
			}
			if !ok {
				continue
			}
			var got *big.Int
			switch {
			case ty.dataType == "bigint" && ty.unsigned:
				got = new(big.Int).SetUint64(v.Uint64())
			default:
				got = big.NewInt(v.Int64())
			}
			if got.Cmp(want) != 0 {
				t.Fatalf("%s %q: file holds %s", ty.dataType, text, got)
			}
		}
	})
}

func FuzzEncodeDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0.00", "999.99", "-999.99", "1000.00", "1.234", ".5", "5.", "-", ".", "", "00001.10",
		"99999999999999999999999999999999999999", "-1e5", "+1.5", "1..2"} {
		f.Add(s)
	}
	decText := regexp.MustCompile(`^-?([0-9]*)(?:\.([0-9]*))?$`)
	f.Fuzz(func(t *testing.T, text string) {
		for _, ps := range [][2]int{{5, 2}, {15, 2}, {20, 4}, {38, 0}, {50, 5}} {
			p, s := ps[0], ps[1]
			c := col("d", "decimal", "decimal", false, p, s)
			v, ok := encodeOne(t, c, []byte(text))
			m := decText.FindStringSubmatch(strings.TrimPrefix(text, "+"))
			legal := m != nil && (m[1] != "" || m[2] != "") && len(strings.TrimLeft(m[1], "0")) <= p-s && len(m[2]) <= s
			if ok != legal {
				t.Fatalf("DECIMAL(%d,%d) %q: accepted %v, legal %v", p, s, text, ok, legal)
			}
			if !ok {
				continue
			}
			want, ok := new(big.Rat).SetString(strings.TrimSuffix(strings.TrimPrefix(text, "+"), "."))
			if !ok {
				want, _ = new(big.Rat).SetString(strings.Replace(strings.TrimPrefix(text, "+"), ".", "0.", 1) + "0")
			}
			got := decimalValue(t, v, p, s)
			if got.Cmp(want) != 0 {
				t.Fatalf("DECIMAL(%d,%d) %q: file holds %s", p, s, text, got.FloatString(s))
			}
		}
	})
}

// decimalValue reads a DECIMAL(p,s) value back from its physical form.
func decimalValue(t *testing.T, v pq.Value, p, s int) *big.Rat {
	var u big.Int
	switch {
	case p > maxReadableDecimal:
		r, ok := new(big.Rat).SetString(string(v.ByteArray()))
		if !ok {
			t.Fatalf("DECIMAL(%d,%d) text %q", p, s, v.ByteArray())
		}
		return r
	case v.Kind() == pq.Int32:
		u.SetInt64(int64(v.Int32()))
	case v.Kind() == pq.Int64:
		u.SetInt64(v.Int64())
	default:
		b := v.ByteArray()
		u.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			u.Sub(&u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
	}
	return new(big.Rat).SetFrac(&u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil))
}

func FuzzEncodeFloat(f *testing.F) {
	for _, s := range []string{"0", "-0", "3.4028234663852886e38", "1.401298464324817e-45", "1e39", "1.7976931348623157e308",
		"4.9e-324", "1e309", "nan", "inf", "", "0x1p3", "1_0", "16777217"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, bits := range []int{32, 64} {
			dataType := map[int]string{32: "float", 64: "double"}[bits]
			v, ok := encodeOne(t, col("f", dataType, dataType, false, 0, 0), []byte(text))
			want, err := strconv.ParseFloat(text, bits)
			if ok != (err == nil) {
				t.Fatalf("%s %q: accepted %v, strconv says %v", dataType, text, ok, err)
			}
			if !ok {
				continue
			}
			got := v.Double()
			if bits == 32 {
				got = float64(v.Float())
			}
			if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("%s %q: file holds %v, want %v", dataType, text, got, want)
			}
		}
	})
}

func FuzzEncodeTemporal(f *testing.F) {
	for _, s := range []string{"2025-08-07", "0000-00-00", "2025-00-10", "2025-02-29", "2024-02-29", "9999-12-31", "0001-01-01",
		"2025-08-07 12:34:56.123456", "0000-00-00 00:00:00", "2025-01-00 23:59:59", "2025-08-07 24:00:00",
		"-838:59:59.999999", "838:59:59", "00:00:00", "-00:00:00.5", "12:60:00", "1:2:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		// DATE: a calendar date is its day number; a zero or partial zero
		// date is NULL; anything else is refused.
		v, ok := encodeOne(t, col("d", "date", "date", false, 0, 0), []byte(text))
		if ok && !v.IsNull() {
			day := time.Unix(int64(v.Int32())*86400, 0).UTC()
			if got := day.Format(time.DateOnly); got != text {
				t.Fatalf("DATE %q: file holds %s", text, got)
			}
		}
		if ok && v.IsNull() && !zeroInDate(text) {
			t.Fatalf("DATE %q: NULL for a value that is not a zero date", text)
		}
		// DATETIME(6): the same, with the wall clock in microseconds.
		v, ok = encodeOne(t, col("dt", "datetime", "datetime(6)", false, 6, 0), []byte(text))
		if ok && !v.IsNull() {
			ts := time.UnixMicro(v.Int64()).UTC()
			if want, err := time.Parse("2006-01-02 15:04:05.999999", text); err == nil && !ts.Equal(want) {
				t.Fatalf("DATETIME %q: file holds %s", text, ts)
			}
		}
		if ok && v.IsNull() && (len(text) < 10 || !zeroInDate(text[:10])) {
			t.Fatalf("DATETIME %q: NULL for a value that is not a zero date", text)
		}
		// TIME: the signed duration in microseconds.
		v, ok = encodeOne(t, col("tm", "time", "time(6)", false, 6, 0), []byte(text))
		if ok {
			if got := formatDuration(v.Int64()); !sameDuration(got, text) {
				t.Fatalf("TIME %q: file holds %d (%s)", text, v.Int64(), got)
			}
		}
	})
}

func zeroInDate(s string) bool {
	return len(s) == 10 && (s[5:7] == "00" || s[8:10] == "00")
}

// formatDuration renders microseconds as MySQL prints a TIME(6).
func formatDuration(us int64) string {
	sign := ""
	if us < 0 {
		sign, us = "-", -us
	}
	sec := us / 1_000_000
	return sign + strconv.FormatInt(sec/3600, 10) + ":" + two(sec/60%60) + ":" + two(sec%60) + "." + strconv.FormatInt(1_000_000+us%1_000_000, 10)[1:]
}

func two(n int64) string { return strconv.FormatInt(100+n, 10)[1:] }

// sameDuration compares a rendered TIME with the input text, which may have
// fewer fraction digits, leading zeros in the hours, or "-" on a zero.
func sameDuration(got, text string) bool {
	neg := strings.HasPrefix(text, "-")
	text = strings.TrimPrefix(text, "-")
	h, rest, _ := strings.Cut(text, ":")
	hh, _ := strconv.Atoi(h)
	frac := ""
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest, frac = rest[:i], rest[i+1:]
	}
	frac += strings.Repeat("0", 6-len(frac))
	want := strconv.Itoa(hh) + ":" + rest + "." + frac
	if neg && strings.Trim(want, "0:.") != "" {
		want = "-" + want
	}
	return got == want
}

func FuzzEncodeText(f *testing.F) {
	for _, s := range []string{"", "a", "ação", "💊", "\xff", "\xc3\x28", "a\x00b", "\xed\xa0\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := encodeOne(t, col("s", "varchar", "varchar(255)", false, 0, 0), b)
		if ok != utf8.Valid(b) {
			t.Fatalf("VARCHAR %q: accepted %v, valid UTF-8 %v", b, ok, utf8.Valid(b))
		}
		if ok && !bytes.Equal(v.ByteArray(), b) {
			t.Fatalf("VARCHAR %q: file holds %q", b, v.ByteArray())
		}
		v, ok = encodeOne(t, col("b", "blob", "blob", false, 0, 0), b)
		if !ok || !bytes.Equal(v.ByteArray(), b) {
			t.Fatalf("BLOB %q: accepted %v, file holds %q", b, ok, v.ByteArray())
		}
	})
}

func FuzzEncodeGeometry(f *testing.F) {
	for _, s := range []string{"\xe6\x10\x00\x00" + wkbPoint12, "\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00", "", "\x00", "\x00\x00\x00\x00\x02\x01\x00\x00\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := encodeOne(t, col("g", "geometry", "geometry", false, 0, 0), b)
		legal := len(b) >= 9 && b[4] <= 1
		if ok != legal {
			t.Fatalf("GEOMETRY %x: accepted %v, want %v", b, ok, legal)
		}
		if ok && !bytes.Equal(v.ByteArray(), b[4:]) {
			t.Fatalf("GEOMETRY %x: file holds %x, want the WKB after the SRID", b, v.ByteArray())
		}
	})
}
