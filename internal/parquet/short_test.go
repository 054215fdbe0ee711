package parquet

import (
	"bytes"
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
		if !equalShort(a, bytes.Clone(a)) {
			t.Errorf("equalShort of two equal %d-byte values is false", n)
		}
		if equalShort(a, append(bytes.Clone(a), '7')) {
			t.Errorf("equalShort of %d and %d bytes is true", n, n+1)
		}
		if !validUTF8(a) {
			t.Errorf("validUTF8 of %d ASCII bytes is false", n)
		}
		for i := range n {
			b := bytes.Clone(a)
			b[i] = '8'
			if equalShort(a, b) {
				t.Errorf("equalShort(%q, %q) is true", a, b)
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
