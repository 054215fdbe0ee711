package stats

import (
	"bytes"
	"encoding/binary"
)

// textStats keeps the min and max of a temporal column by text order,
// which is time order for MySQL's fixed-width date forms.
type textStats struct {
	seen     bool
	min, max []byte
	// minKey and maxKey are min and max as textKeys, when they fit one:
	// a DATE is compared in a few instructions instead of two calls.
	minKey, maxKey textKey
}

func (s *textStats) observe(v []byte) {
	k, _ := textKeyOf(v)
	s.observeKey(v, k)
}

// observeKey is observe with v's textKey, the zero textKey if it has none.
func (s *textStats) observeKey(v []byte, k textKey) {
	if k.n != 0 && s.minKey.n != 0 && s.maxKey.n != 0 {
		switch {
		case k.less(s.minKey):
			s.min, s.minKey = append(s.min[:0], v...), k
		case s.maxKey.less(k):
			s.max, s.maxKey = append(s.max[:0], v...), k
		}
		return
	}
	switch {
	case !s.seen:
		s.min, s.minKey = append(s.min[:0], v...), k
		s.max, s.maxKey = append(s.max[:0], v...), k
		s.seen = true
	case bytes.Compare(v, s.min) < 0:
		s.min, s.minKey = append(s.min[:0], v...), k
	case bytes.Compare(v, s.max) > 0:
		s.max, s.maxKey = append(s.max[:0], v...), k
	}
}

// textKey is text of 8 to 16 bytes packed into two big-endian words,
// zero-padded, and its length: comparing keys compares the texts as
// bytes.Compare does (a text and its zero-padded extension tie on the
// words and the shorter is less).
type textKey struct {
	hi, lo uint64
	n      int // the text's length; 0 in the zero textKey, which stands for none
}

// textKeyOf packs v, or reports false when v's length is not 8 to 16.
func textKeyOf(v []byte) (textKey, bool) {
	if len(v) < 8 || len(v) > 16 {
		return textKey{}, false
	}
	// The last 8 bytes overlap the first 8 when v is shorter than 16:
	// shifting the overlap out leaves bytes 8 to len-1 at the top of lo.
	lo := binary.BigEndian.Uint64(v[len(v)-8:]) << (8 * (16 - len(v)))
	return textKey{hi: binary.BigEndian.Uint64(v[:8]), lo: lo, n: len(v)}, true
}

func (a textKey) less(b textKey) bool {
	if a.hi != b.hi {
		return a.hi < b.hi
	}
	if a.lo != b.lo {
		return a.lo < b.lo
	}
	return a.n < b.n
}
