package parquet

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"unicode/utf8"
)

// The short-value shortcuts answer as the general functions do, at every
// length around their word sizes and with the difference or the non-ASCII
// byte at every position.
func TestShortcuts_AgreeWithTheGeneralFunctions(t *testing.T) {
	t.Parallel()
	for n := 0; n <= 20; n++ {
		a := bytes.Repeat([]byte("7"), n)
		if keyOf(a) != keyOf(bytes.Clone(a)) {
			t.Errorf("keyOf of two equal %d-byte values differ", n)
		}
		if keyOf(a) == keyOf(append(bytes.Clone(a), '7')) {
			t.Errorf("keyOf of %d and %d bytes are equal", n, n+1)
		}
		if !validUTF8(a) {
			t.Errorf("validUTF8 of %d ASCII bytes is false", n)
		}
		for i := range n {
			b := bytes.Clone(a)
			b[i] = '8'
			if n <= 16 && keyOf(a) == keyOf(b) {
				t.Errorf("keyOf(%q) = keyOf(%q): a short value's key must be the value", a, b)
			}
			for _, c := range [][]byte{{0xff}, {0xc3, 0xa9}, {0xc3}, {0x80}} {
				v := append(append(bytes.Clone(a[:i]), c...), a[i:]...)
				if got, want := validUTF8(v), utf8.Valid(v); got != want {
					t.Errorf("validUTF8(%q) = %v, utf8.Valid %v", v, got, want)
				}
			}
		}
	}
}

// A dictionary gives each distinct value one index, in order of first
// appearance, through its table's growth and across values whose first
// and last 8 bytes agree (longer than 16 bytes), and holds the values back
// as they came.
func TestDictionary_OneIndexPerValue(t *testing.T) {
	t.Parallel()
	var d dictionary
	d.init()
	var values [][]byte
	for i := range 30_000 {
		n := i % 41 // 0 to 40 bytes
		v := bytes.Repeat([]byte{'x'}, n)
		for k, c := range []byte(strconv.Itoa(i)) {
			if n > 0 {
				v[(k+n/2)%n] = c // the middle differs, the ends often agree
			}
		}
		values = append(values, v)
	}
	want := map[string]int32{}
	for round := range 2 {
		for _, v := range values {
			got, _ := d.use(v, 1)
			w, seen := want[string(v)]
			if !seen {
				w = int32(len(want))
				want[string(v)] = w
			}
			if got != w {
				t.Fatalf("round %d: index(%q) = %d, want %d", round, v, got, w)
			}
		}
	}
	if d.len() != len(want) {
		t.Fatalf("%d entries, want %d distinct values", d.len(), len(want))
	}
	for v, k := range want {
		if string(d.entry(k)) != v {
			t.Fatalf("entry(%d) = %q, want %q", k, d.entry(k), v)
		}
	}
	for stamp := uint32(2); stamp <= 3; stamp++ {
		for i, v := range values[:100] {
			_, first := d.use(v, stamp)
			if again := slices.ContainsFunc(values[:i], func(u []byte) bool { return bytes.Equal(u, v) }); first == again {
				t.Fatalf("page %d, value %q: first use %v, seen before in the page %v", stamp, v, first, again)
			}
		}
	}
	d.reset()
	if d.len() != 0 || func() int32 { k, _ := d.use([]byte("after reset"), 1); return k }() != 0 {
		t.Fatalf("after reset: %d entries", d.len())
	}
}
