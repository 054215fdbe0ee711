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
type dictionary struct {
	seed   maphash.Seed
	table  []int32  // slots: entry index + 1, 0 for empty
	hashes []uint32 // per entry, to compare and to grow the table cheaply
	ends   []uint32 // per entry, where its bytes end in data
	stamps []uint32 // per entry, the last page that used it (colWriter.stamp)
	data   []byte
	bytes  int   // the dictionary page's PLAIN size
	last   int32 // the index found last: runs of one value skip the hash
	on     bool
}

func (d *dictionary) init() {
	d.seed = maphash.MakeSeed()
	d.table = make([]int32, 1024)
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

// index returns b's index, adding b when it is new.
func (d *dictionary) index(b []byte) int32 {
	if d.last >= 0 && string(d.entry(d.last)) == string(b) {
		return d.last
	}
	h := uint32(maphash.Bytes(d.seed, b))
	mask := uint32(len(d.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := d.table[i]
		if e == 0 {
			k := int32(len(d.ends))
			d.data = append(d.data, b...)
			d.ends = append(d.ends, uint32(len(d.data)))
			d.hashes = append(d.hashes, h)
			d.stamps = append(d.stamps, 0)
			d.table[i] = k + 1
			d.bytes += 4 + len(b)
			if 2*len(d.ends) > len(d.table) {
				d.grow()
			}
			d.last = k
			return k
		}
		if k := e - 1; d.hashes[k] == h && string(d.entry(k)) == string(b) {
			d.last = k
			return k
		}
	}
}

// grow doubles the table, keeping it at most half full.
func (d *dictionary) grow() {
	d.table = make([]int32, 2*len(d.table))
	mask := uint32(len(d.table) - 1)
	for k, h := range d.hashes {
		i := h & mask
		for d.table[i] != 0 {
			i = (i + 1) & mask
		}
		d.table[i] = int32(k) + 1
	}
}

// reset empties the dictionary for the next column chunk, keeping its room.
func (d *dictionary) reset() {
	clear(d.table)
	d.hashes, d.ends, d.stamps, d.data = d.hashes[:0], d.ends[:0], d.stamps[:0], d.data[:0]
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
