package parquet

import (
	"fmt"
	"math"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// leafInfo is what the column writer needs to know of one leaf column of
// the file, taken once from parquet-go's schema (which owns the format
// knowledge: logical types, levels, schema elements).
type leafInfo struct {
	path     []string
	phys     format.Type
	size     int   // FIXED_LEN_BYTE_ARRAY length
	maxDef   uint8 // 0: REQUIRED
	maxRep   uint8 // >0 only for _airbyte_additional_properties, always written as NULL
	dict     bool  // RLE_DICTIONARY in the dictionary schema (string columns)
	order    order
	template format.ColumnMetaData // Type, PathInSchema: copied into every chunk
}

// order is how min/max compare a leaf's values, per the Parquet column
// order of its logical type.
type order uint8

const (
	orderSigned   order = iota // INT32/INT64 signed, FLOAT/DOUBLE, BOOLEAN
	orderUnsigned              // INT64 UINT_64; BYTE_ARRAY byte-wise
	orderDecimal               // FIXED_LEN_BYTE_ARRAY DECIMAL: two's complement, big-endian
)

func leavesOf(root *pq.Schema) ([]leafInfo, error) {
	var out []leafInfo
	for _, path := range root.Columns() {
		lc, ok := root.Lookup(path...)
		if !ok {
			return nil, fmt.Errorf("schema: no leaf %v", path)
		}
		t := lc.Node.Type()
		li := leafInfo{
			path:   path,
			phys:   format.Type(t.Kind()),
			maxDef: uint8(lc.MaxDefinitionLevel),
			maxRep: uint8(lc.MaxRepetitionLevel),
		}
		if e := lc.Node.Encoding(); e != nil && e.Encoding() == format.RLEDictionary {
			li.dict = true
		}
		var ltv format.LogicalTypeValue
		if lt := t.LogicalType(); lt != nil {
			ltv = lt.Value
		}
		switch li.phys {
		case format.FixedLenByteArray:
			li.size = t.Length()
			li.order = orderUnsigned
			if _, ok := ltv.(*format.DecimalType); ok {
				li.order = orderDecimal
			}
		case format.ByteArray:
			li.order = orderUnsigned
		case format.Int32, format.Int64:
			if it, ok := ltv.(*format.IntType); ok && !it.IsSigned {
				li.order = orderUnsigned
			}
		case format.Boolean, format.Float, format.Double:
		default:
			return nil, fmt.Errorf("schema: leaf %v: physical type %s not written", path, li.phys)
		}
		li.template = format.ColumnMetaData{Type: li.phys, PathInSchema: path}
		out = append(out, li)
	}
	return out, nil
}

// val is one converted value in the Writer's batch: numbers' bits in x,
// byte values as [off, end) of the batch arena. It holds no pointer, so the
// batch costs the garbage collector nothing.
type val struct {
	x   uint64
	off uint32
	end uint32
	def uint8
}

// bounds is the min/max of a page or column chunk, in the leaf's order.
// Numbers keep their bits in lo/hi; byte values are copies.
type bounds struct {
	has    bool
	lo, hi uint64
	min    []byte
	max    []byte
}

func (b *bounds) reset() {
	b.has = false
	b.min, b.max = b.min[:0], b.max[:0]
}

// lessBits orders two numbers of a physical type by their bits.
func lessBits(phys format.Type, o order, a, b uint64) bool {
	switch phys {
	case format.Int32:
		if o == orderUnsigned {
			return uint32(a) < uint32(b)
		}
		return int32(a) < int32(b)
	case format.Int64:
		if o == orderUnsigned {
			return a < b
		}
		return int64(a) < int64(b)
	case format.Float:
		return math.Float32frombits(uint32(a)) < math.Float32frombits(uint32(b))
	case format.Double:
		return math.Float64frombits(a) < math.Float64frombits(b)
	default: // BOOLEAN
		return a < b
	}
}

// merge widens b by another bounds of the same leaf.
func (b *bounds) merge(li *leafInfo, o *bounds) {
	if !o.has {
		return
	}
	if isBytes(li.phys) {
		if !b.has || lessBytes(li.order, o.min, b.min) {
			b.min = append(b.min[:0], o.min...)
		}
		if !b.has || lessBytes(li.order, b.max, o.max) {
			b.max = append(b.max[:0], o.max...)
		}
	} else {
		if !b.has || lessBits(li.phys, li.order, o.lo, b.lo) {
			b.lo = o.lo
		}
		if !b.has || lessBits(li.phys, li.order, b.hi, o.hi) {
			b.hi = o.hi
		}
	}
	b.has = true
}

func isBytes(t format.Type) bool { return t == format.ByteArray || t == format.FixedLenByteArray }

// lessBytes orders byte values: byte-wise, or as big-endian two's
// complement numbers of one length for DECIMAL.
func lessBytes(o order, a, b []byte) bool {
	if o == orderDecimal && len(a) > 0 && len(b) > 0 && a[0]&0x80 != b[0]&0x80 {
		return a[0]&0x80 != 0 // the negative one is smaller
	}
	return string(a) < string(b)
}

// plainBits renders a number's bits in PLAIN encoding, as statistics hold it.
func plainBits(phys format.Type, x uint64) []byte {
	switch phys {
	case format.Boolean:
		return []byte{byte(x)}
	case format.Int32, format.Float:
		return []byte{byte(x), byte(x >> 8), byte(x >> 16), byte(x >> 24)}
	default:
		b := make([]byte, 8)
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
		return b
	}
}

// statMin and statMax are the PLAIN bytes of the bounds; byte values
// truncated to limit (0: whole), the max rounded up so it stays an upper
// bound, as parquet-go and parquet-java truncate the column index.
func (b *bounds) statMin(li *leafInfo, limit int) []byte {
	if !b.has {
		return []byte{}
	}
	if !isBytes(li.phys) {
		return plainBits(li.phys, b.lo)
	}
	m := b.min
	if limit > 0 && len(m) > limit && li.phys == format.ByteArray {
		m = m[:limit]
	}
	return append([]byte{}, m...)
}

func (b *bounds) statMax(li *leafInfo, limit int) []byte {
	if !b.has {
		return []byte{}
	}
	if !isBytes(li.phys) {
		return plainBits(li.phys, b.hi)
	}
	m := append([]byte{}, b.max...)
	if limit > 0 && len(m) > limit && li.phys == format.ByteArray {
		if up, ok := roundUp(m[:limit]); ok {
			return up
		}
	}
	return m
}

// roundUp returns the smallest byte string of len(p) or less greater than
// every string starting with p, false when p is all 0xff.
func roundUp(p []byte) ([]byte, bool) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			p = p[:i+1]
			p[i]++
			return p, true
		}
	}
	return nil, false
}
