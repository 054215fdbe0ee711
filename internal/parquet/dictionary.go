package parquet

import (
	"encoding/binary"
	"hash/maphash"
)

// dictionary is a string column chunk's dictionary: each distinct value
// once, in order of first appearance, and its index. It is an open
// addressing hash table over one byte buffer, with no pointer in it: a Go
// map of strings would have the garbage collector visit every key of every
// dictionary in each cycle, which cost more than the lookups themselves.
//
// A lookup is a few cache misses on a chunk of tens of thousands of EANs,
// so the layout is for those: a slot holds the entry's hash beside its
// index (a probe rejects other values without leaving the table), and an
// entry's end and page stamp share one element (the hit reads one line
// for both, see colWriter.writeDict).
type dictionary struct {
	seed    maphash.Seed
	table   []uint64 // slots: hash<<32 | entry index + 1, 0 for empty
	entries []dictEntry
	data    []byte
	bytes   int   // the dictionary page's PLAIN size
	last    int32 // the index found last: runs of one value skip the hash
	on      bool
}

// dictEntry is one value of the dictionary: where its bytes end in data
// (it starts where the previous one ends) and the last page that used it.
type dictEntry struct {
	end   uint32
	stamp uint32 // colWriter.stamp of the last page that used the entry
}

func (d *dictionary) init() {
	d.seed = maphash.MakeSeed()
	d.table = make([]uint64, 1024)
	d.last = -1
	d.on = true
}

func (d *dictionary) len() int { return len(d.entries) }

// entry is the value of index k.
func (d *dictionary) entry(k int32) []byte {
	start := uint32(0)
	if k > 0 {
		start = d.entries[k-1].end
	}
	return d.data[start:d.entries[k].end]
}

// index returns b's index, adding b when it is new.
func (d *dictionary) index(b []byte) int32 {
	if d.last >= 0 && equalShort(d.entry(d.last), b) {
		return d.last
	}
	h := uint32(maphash.Bytes(d.seed, b))
	mask := uint32(len(d.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := d.table[i]
		if s == 0 {
			return d.add(i, h, b)
		}
		if uint32(s>>32) == h {
			if k := int32(uint32(s)) - 1; equalShort(d.entry(k), b) {
				d.last = k
				return k
			}
		}
	}
}

// add appends b as a new entry in slot i of the table, growing it to keep
// it at most half full.
func (d *dictionary) add(i, h uint32, b []byte) int32 {
	k := int32(len(d.entries))
	d.data = append(d.data, b...)
	d.entries = append(d.entries, dictEntry{end: uint32(len(d.data))})
	d.table[i] = uint64(h)<<32 | uint64(k+1)
	d.bytes += 4 + len(b)
	if 2*len(d.entries) > len(d.table) {
		d.grow()
	}
	d.last = k
	return k
}

// grow doubles the table. The slots keep their hashes, so the entries are
// placed again without hashing their values.
func (d *dictionary) grow() {
	old := d.table
	d.table = make([]uint64, 2*len(old))
	mask := uint32(len(d.table) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := uint32(s>>32) & mask
		for d.table[i] != 0 {
			i = (i + 1) & mask
		}
		d.table[i] = s
	}
}

// equalShort is a == b, quicker than the runtime's memequal call for the
// short values dictionaries hold (codes, CNPJs, EANs: 8 to 16 bytes are
// two overlapping word compares).
func equalShort(a, b []byte) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	if n >= 8 && n <= 16 {
		le := binary.LittleEndian
		return le.Uint64(a) == le.Uint64(b) && le.Uint64(a[n-8:]) == le.Uint64(b[n-8:])
	}
	return string(a) == string(b)
}

// reset empties the dictionary for the next column chunk, keeping its room.
func (d *dictionary) reset() {
	clear(d.table)
	d.entries, d.data = d.entries[:0], d.data[:0]
	d.bytes = 0
	d.last = -1
}

// appendPlain appends the dictionary page's body: the values, PLAIN.
func (d *dictionary) appendPlain(dst []byte) []byte {
	for k := range d.entries {
		e := d.entry(int32(k))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(e)))
		dst = append(dst, e...)
	}
	return dst
}
