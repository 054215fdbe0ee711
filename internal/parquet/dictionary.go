package parquet

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// dictionary is a string column chunk's dictionary: each distinct value
// once, in order of first appearance, and its index. It is an open
// addressing hash table over one byte buffer, with no pointer in it: a Go
// map of strings would have the garbage collector visit every key of every
// dictionary in each cycle, which cost more than the lookups themselves.
//
// A chunk of the diario holds some 40k distinct EANs: the table does not
// stay in cache between two rows, so a lookup costs its cache misses, and
// misses that depend on each other (slot, then entry, then bytes) add up.
// So a slot holds the value itself when it has at most 16 bytes (CNPJs,
// EANs, codes: the columns with many values) and the last page that used
// it, and a lookup of such a value reads one slot; longer values also
// compare their bytes in data.
type dictionary struct {
	seed  maphash.Seed
	mix   uint64     // seeds hashOf
	table []dictSlot // open addressing, at most 2/3 full
	shift uint       // 64 - log2(len(table)): a hash's slot is h >> shift
	ends  []uint32   // by entry, where its bytes end in data
	data  []byte
	bytes int // the dictionary page's PLAIN size
	last  int // the slot found last (-1: none): runs of one value skip the hash
	on    bool
}

// dictKey is a value's bytes as two words and its length: the value
// itself for up to 16 bytes (see keyOf), its first and last 8 bytes for a
// longer one.
type dictKey struct {
	w0, w1 uint64
	n      uint32
}

// dictSlot is one slot of the table: 32 bytes, two to a cache line.
type dictSlot struct {
	w0, w1 uint64 // dictKey
	n      uint32
	hash   uint32 // the value's hash (top half), to grow the table without the bytes
	k      int32  // entry index + 1; 0 for an empty slot
	stamp  uint32 // colWriter.stamp of the last page that used the entry
}

func (s *dictSlot) holds(k dictKey) bool { return s.w0 == k.w0 && s.w1 == k.w1 && s.n == k.n }

const dictMinSlots = 1024

func (d *dictionary) init() {
	d.seed = maphash.MakeSeed()
	d.mix = maphash.Comparable(d.seed, 0) | 1
	d.table = make([]dictSlot, dictMinSlots)
	d.shift = 64 - uint(bits.Len(dictMinSlots-1))
	d.last = -1
	d.on = true
}

func (d *dictionary) len() int { return len(d.ends) }

// entry is the value of index k.
func (d *dictionary) entry(k int32) []byte {
	start := uint32(0)
	if k > 0 {
		start = d.ends[k-1]
	}
	return d.data[start:d.ends[k]]
}

// keyOf reads b as a dictKey. For up to 16 bytes the key covers every
// byte (overlapping loads), so equal keys are equal values.
func keyOf(b []byte) dictKey {
	n := len(b)
	le := binary.LittleEndian
	k := dictKey{n: uint32(n)}
	switch {
	case n >= 8:
		k.w0, k.w1 = le.Uint64(b), le.Uint64(b[n-8:])
	case n >= 4:
		k.w0 = uint64(le.Uint32(b)) | uint64(le.Uint32(b[n-4:]))<<32
	case n > 0:
		k.w0 = uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	return k
}

// hashOf is b's hash: mixed from its key when the key is the value, else
// maphash of the bytes.
func (d *dictionary) hashOf(b []byte, k dictKey) uint64 {
	if k.n > 16 {
		return maphash.Bytes(d.seed, b)
	}
	h := (k.w0 ^ d.mix) * 0x9e3779b97f4a7c15
	h = (h ^ k.w1 ^ uint64(k.n)<<56) * 0xc2b2ae3d27d4eb4f
	return h ^ h>>29
}

// use returns b's index, adding b when it is new, and whether page stamp
// uses it for the first time (the page's bounds are found among those).
func (d *dictionary) use(b []byte, stamp uint32) (k int32, first bool) {
	key := keyOf(b)
	if d.last >= 0 {
		if s := &d.table[d.last]; d.matches(s, key, b) {
			return s.k - 1, s.mark(stamp)
		}
	}
	h := d.hashOf(b, key)
	h32 := uint32(h >> 32)
	mask := len(d.table) - 1
	for i := int(h >> d.shift); ; i = (i + 1) & mask {
		s := &d.table[i]
		if s.k == 0 {
			return d.add(i, key, h32, stamp, b), true
		}
		if s.hash == h32 && d.matches(s, key, b) {
			d.last = i
			return s.k - 1, s.mark(stamp)
		}
	}
}

// matches reports whether the filled slot s holds b, of key key: the key
// decides for up to 16 bytes, the entry's bytes for a longer value.
func (d *dictionary) matches(s *dictSlot, key dictKey, b []byte) bool {
	return s.holds(key) && (key.n <= 16 || string(d.entry(s.k-1)) == string(b))
}

// mark stamps the slot with page stamp and reports whether it was not yet.
func (s *dictSlot) mark(stamp uint32) bool {
	if s.stamp == stamp {
		return false
	}
	s.stamp = stamp
	return true
}

// add appends b as a new entry in the empty slot i, growing the table to
// keep it at most 2/3 full.
func (d *dictionary) add(i int, key dictKey, h32, stamp uint32, b []byte) int32 {
	k := int32(len(d.ends))
	d.data = append(d.data, b...)
	d.ends = append(d.ends, uint32(len(d.data)))
	d.table[i] = dictSlot{w0: key.w0, w1: key.w1, n: key.n, hash: h32, k: k + 1, stamp: stamp}
	d.last = i
	d.bytes += 4 + len(b)
	if 3*len(d.ends) > 2*len(d.table) {
		d.grow()
	}
	return k
}

// grow doubles the table. A slot's place comes from the top bits of its
// hash, which the slot keeps: 32 of them, enough up to 2^32 slots.
func (d *dictionary) grow() {
	old := d.table
	d.table = make([]dictSlot, 2*len(old))
	d.shift--
	mask := len(d.table) - 1
	d.last = -1
	for _, s := range old {
		if s.k == 0 {
			continue
		}
		i := int(uint64(s.hash) << 32 >> d.shift)
		for d.table[i].k != 0 {
			i = (i + 1) & mask
		}
		d.table[i] = s
	}
}

// reset empties the dictionary for the next column chunk, keeping its room.
func (d *dictionary) reset() {
	clear(d.table)
	d.ends, d.data = d.ends[:0], d.data[:0]
	d.bytes = 0
	d.last = -1
}

// appendPlain appends the dictionary page's body: the values, PLAIN.
func (d *dictionary) appendPlain(dst []byte) []byte {
	for k := range d.ends {
		e := d.entry(int32(k))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(e)))
		dst = append(dst, e...)
	}
	return dst
}
