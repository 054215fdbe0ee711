package parquet

import (
	"encoding/binary"
	"math"

	"github.com/parquet-go/parquet-go/format"
)

// colWriter builds the column chunk of one leaf in the current row group:
// the page being filled (PLAIN values or dictionary indexes, definition
// levels, bounds), and what the chunk's metadata and page index need.
//
// It replaces parquet-go's generic column buffers for the few shapes acode
// writes: each physical type has its own loop over a batch, a page's
// definition levels are kept only once a NULL shows up in it, and a page's
// bounds are kept as the values' bits. See page.go for closing pages.
type colWriter struct {
	li *leafInfo

	dictOn bool // this chunk still dictionary-encodes (until the fallback)
	dict   dictionary

	// The page being filled.
	plain  []byte  // PLAIN values (booleans bit-packed)
	idx    []int32 // dictionary indexes
	defs   []uint8 // definition levels, kept once defsOn
	defsOn bool    // a NULL showed up in the page: until then every value is defined
	n      int     // values, NULLs included (= rows: acode writes no lists)
	nulls  int
	page   bounds
	seen   []int32 // dictionary entries the page uses, once each
	stamp  uint32  // the page's mark in dictSlot.stamp

	// The chunk.
	chunk        bounds
	chunkValues  int64
	chunkNulls   int64
	uncompressed int64 // pages' headers and bodies, uncompressed
	compressed   int64 // ... as stored
	dictPages    int32 // data pages with RLE_DICTIONARY values
	plainPages   int32 // data pages with PLAIN values
	colIndex     format.ColumnIndex
	offIndex     format.OffsetIndex // offsets relative to the first data page
}

func newColWriter(li *leafInfo, dict bool) *colWriter {
	c := &colWriter{li: li, dictOn: dict && li.dict, stamp: 1}
	if c.dictOn {
		c.dict.init()
	}
	return c
}

// pageBytes is the page's size before encoding, to close it near PageBytes.
func (c *colWriter) pageBytes() int {
	return len(c.plain) + 4*len(c.idx) + len(c.defs)
}

// openBytes is what the chunk holds besides its stored pages: the open page
// and the dictionary, counted as Size() estimates.
func (c *colWriter) openBytes() int64 {
	return int64(c.pageBytes()) + int64(c.dict.bytes)
}

// nullAt records a NULL (or a value whose path stops at level def).
func (c *colWriter) nullAt(i int, def uint8) {
	if !c.defsOn {
		c.defsOn = true
		for range c.n + i {
			c.defs = append(c.defs, c.li.maxDef)
		}
	}
	c.defs = append(c.defs, def)
	c.nulls++
}

// write appends a batch of this leaf's values to the open page.
func (c *colWriter) write(vs []val, arena []byte) {
	switch {
	case c.dictOn:
		c.writeDict(vs, arena)
	case c.li.phys == format.Int32 && c.li.order == orderSigned:
		c.writeInt32(vs)
	case c.li.phys == format.Int64 && c.li.order == orderSigned:
		c.writeInt64(vs)
	case c.li.phys == format.ByteArray:
		c.writeBytes(vs, arena)
	case c.li.phys == format.FixedLenByteArray:
		c.writeFixed(vs, arena)
	default:
		c.writeOther(vs)
	}
	c.n += len(vs)
}

func (c *colWriter) writeInt32(vs []val) {
	maxDef := c.li.maxDef
	lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
	if c.page.has {
		lo, hi = int32(c.page.lo), int32(c.page.hi)
	}
	any := false
	plain := c.plain
	for i := range vs {
		v := &vs[i]
		if v.def < maxDef {
			c.nullAt(i, v.def)
			continue
		}
		if c.defsOn {
			c.defs = append(c.defs, maxDef)
		}
		x := int32(v.x)
		plain = binary.LittleEndian.AppendUint32(plain, uint32(x))
		lo, hi = min(lo, x), max(hi, x)
		any = true
	}
	c.plain = plain
	if any {
		c.page.has, c.page.lo, c.page.hi = true, uint64(uint32(lo)), uint64(uint32(hi))
	}
}

func (c *colWriter) writeInt64(vs []val) {
	maxDef := c.li.maxDef
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	if c.page.has {
		lo, hi = int64(c.page.lo), int64(c.page.hi)
	}
	any := false
	plain := c.plain
	for i := range vs {
		v := &vs[i]
		if v.def < maxDef {
			c.nullAt(i, v.def)
			continue
		}
		if c.defsOn {
			c.defs = append(c.defs, maxDef)
		}
		x := int64(v.x)
		plain = binary.LittleEndian.AppendUint64(plain, uint64(x))
		lo, hi = min(lo, x), max(hi, x)
		any = true
	}
	c.plain = plain
	if any {
		c.page.has, c.page.lo, c.page.hi = true, uint64(lo), uint64(hi)
	}
}

// writeOther covers the rarer numbers: BOOLEAN, FLOAT, DOUBLE and unsigned
// INT64, with their own orders.
func (c *colWriter) writeOther(vs []val) {
	li := c.li
	maxDef := li.maxDef
	for i := range vs {
		v := &vs[i]
		if v.def < maxDef {
			c.nullAt(i, v.def)
			continue
		}
		if c.defsOn {
			c.defs = append(c.defs, maxDef)
		}
		switch li.phys {
		case format.Boolean:
			k := c.n + i - c.nulls // the value's position among the page's values
			if k%8 == 0 {
				c.plain = append(c.plain, 0)
			}
			c.plain[len(c.plain)-1] |= byte(v.x&1) << (k % 8)
		case format.Int32, format.Float:
			c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(v.x))
		default:
			c.plain = binary.LittleEndian.AppendUint64(c.plain, v.x)
		}
		if isNaN(li.phys, v.x) {
			continue // NaN has no place in min/max
		}
		if !c.page.has {
			c.page.has, c.page.lo, c.page.hi = true, v.x, v.x
		} else if lessBits(li.phys, li.order, v.x, c.page.lo) {
			c.page.lo = v.x
		} else if lessBits(li.phys, li.order, c.page.hi, v.x) {
			c.page.hi = v.x
		}
	}
}

func isNaN(phys format.Type, x uint64) bool {
	switch phys {
	case format.Float:
		f := math.Float32frombits(uint32(x))
		return f != f
	case format.Double:
		return math.IsNaN(math.Float64frombits(x))
	}
	return false
}

func (c *colWriter) observeBytes(b []byte) {
	if !c.page.has {
		c.page.has = true
		c.page.min = append(c.page.min[:0], b...)
		c.page.max = append(c.page.max[:0], b...)
	} else if lessBytes(c.li.order, b, c.page.min) {
		c.page.min = append(c.page.min[:0], b...)
	} else if lessBytes(c.li.order, c.page.max, b) {
		c.page.max = append(c.page.max[:0], b...)
	}
}

func (c *colWriter) writeBytes(vs []val, arena []byte) {
	maxDef := c.li.maxDef
	for i := range vs {
		v := &vs[i]
		if v.def < maxDef {
			c.nullAt(i, v.def)
			continue
		}
		if c.defsOn {
			c.defs = append(c.defs, maxDef)
		}
		b := arena[v.off:v.end]
		c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(len(b)))
		c.plain = append(c.plain, b...)
		c.observeBytes(b)
	}
}

func (c *colWriter) writeFixed(vs []val, arena []byte) {
	maxDef := c.li.maxDef
	for i := range vs {
		v := &vs[i]
		if v.def < maxDef {
			c.nullAt(i, v.def)
			continue
		}
		if c.defsOn {
			c.defs = append(c.defs, maxDef)
		}
		b := arena[v.off:v.end]
		c.plain = append(c.plain, b...)
		c.observeBytes(b)
	}
}

// writeDict looks each value up in the chunk's dictionary and notes the
// entries the page uses, once each: the page's bounds are found among
// those when it closes, not by comparing every value.
func (c *colWriter) writeDict(vs []val, arena []byte) {
	maxDef := c.li.maxDef
	d := &c.dict
	idx, seen, stamp := c.idx, c.seen, c.stamp
	for i := range vs {
		v := &vs[i]
		if v.def < maxDef {
			c.nullAt(i, v.def)
			continue
		}
		if c.defsOn {
			c.defs = append(c.defs, maxDef)
		}
		k, first := d.use(arena[v.off:v.end], stamp)
		idx = append(idx, k)
		if first {
			seen = append(seen, k)
		}
	}
	c.idx, c.seen = idx, seen
}

// dictBounds sets the page's bounds from the entries it used.
func (c *colWriter) dictBounds() {
	if len(c.seen) == 0 {
		return
	}
	d := &c.dict
	lo, hi := d.entry(c.seen[0]), d.entry(c.seen[0])
	for _, k := range c.seen[1:] {
		e := d.entry(k)
		if string(e) < string(lo) {
			lo = e
		} else if string(e) > string(hi) {
			hi = e
		}
	}
	c.page.has = true
	c.page.min = append(c.page.min[:0], lo...)
	c.page.max = append(c.page.max[:0], hi...)
}
