package parquet

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/acode-dev/acode/internal/schema"
)

// Decoder reads committed parts back in the form the MySQL reader handed
// them to the encoder: one value per table column, MySQL's text, nil for
// NULL. With it the statistics of package stats have one definition
// whether they are gathered while a sync writes the files or recomputed
// from the files later (`acode validate --deep`, the merge of `acode
// reconcile`).
//
// Decoder turns rows of one part back into the reader's text form. It is
// the inverse of package parquet's encoder in both type modes: exact (one
// leaf per column) and airbyte ({member0, member1} groups for dates,
// DOUBLE for DECIMAL, base64 for binaries). Not safe for concurrent use.
type Decoder struct {
	table  schema.Table
	leaves []leaf // by leaf column index of the file
	cols   []readColumn
	out    [][]byte
	buf    []byte
	ends   []int
}

// leaf says which table column a leaf feeds, and how.
type leaf struct {
	col    int // table column, -1 when none (Airbyte metadata)
	member int // 0 the column's only leaf, 1 member0, 2 member1 of a group
}

type readColumn struct {
	conv  conv
	scale int // DECIMAL scale
	fsp   int // fractional digits of DATETIME, TIMESTAMP, TIME
	unit  int64
	// member0 and member1 of a group: member0 wins when not NULL.
	typed, text pq.Value
	leaf        int  // leaf index of the column (member0 for a group)
	skip        bool // see Decoder.Only
}

type conv uint8

const (
	convRaw     conv = iota // strings and bytes as they are
	convBase64              // airbyte binaries: base64 text back to bytes
	convInt                 // INT32/INT64
	convUint                // UINT_64
	convDecimal             // unscaled integer of any physical type
	convFloat32
	convFloat64
	convFloatDecimal // airbyte DECIMAL as DOUBLE: decimal text at the column's scale
	convBool
	convDate
	convTimestamp
	convTime
	convDuration // exact mode's TIME: signed microseconds back to "[-]hhh:mm:ss[.f]"
)

// NewDecoder resolves every column of t against pf's schema; a column the
// file lacks is an error naming it.
func NewDecoder(pf *pq.File, t schema.Table) (*Decoder, error) {
	s := pf.Schema()
	d := &Decoder{table: t, leaves: make([]leaf, len(s.Columns())), cols: make([]readColumn, len(t.Columns)),
		out: make([][]byte, len(t.Columns)), ends: make([]int, len(t.Columns)),
		buf: make([]byte, 0, 256)} // never nil: an empty value must not read as NULL
	for i := range d.leaves {
		d.leaves[i].col = -1
	}
	for i, c := range t.Columns {
		single, ok := s.Lookup(c.Name)
		if ok && single.Node.Leaf() {
			d.leaves[single.ColumnIndex] = leaf{col: i}
			d.cols[i] = plan(c, single.Node)
			d.cols[i].leaf = single.ColumnIndex
			continue
		}
		m0, ok0 := s.Lookup(c.Name, "member0")
		m1, ok1 := s.Lookup(c.Name, "member1")
		if !ok0 || !ok1 {
			return nil, fmt.Errorf("column %s is not in the file", c.Name)
		}
		d.leaves[m0.ColumnIndex] = leaf{col: i, member: 1}
		d.leaves[m1.ColumnIndex] = leaf{col: i, member: 2}
		d.cols[i] = plan(c, m0.Node)
		d.cols[i].leaf = m0.ColumnIndex
	}
	return d, nil
}

// Only limits decoding to the named columns (case-insensitive): every
// other column comes back as NULL or as an empty non-NULL value, which is
// all a statistic that only counts NULLs needs, at a fraction of the cost.
func (d *Decoder) Only(names []string) {
	for i, c := range d.table.Columns {
		d.cols[i].skip = true
		for _, n := range names {
			if strings.EqualFold(n, c.Name) {
				d.cols[i].skip = false
			}
		}
	}
}

// Leaf is the leaf column index holding the values of table column i
// (member0 for an airbyte group), for comparing raw values.
func (d *Decoder) Leaf(i int) int { return d.cols[i].leaf }

func plan(c schema.Column, n pq.Node) readColumn {
	col := readColumn{scale: c.Scale, fsp: c.Precision}
	lt := n.Type().LogicalType()
	var v format.LogicalTypeValue
	if lt != nil {
		v = lt.Value
	}
	switch t := v.(type) {
	case *format.DecimalType:
		col.conv, col.scale = convDecimal, int(t.Scale)
		if n.Type().Kind() == pq.ByteArray {
			col.conv = convRaw // precision > 38 is kept as exact text
		}
		return col
	case *format.DateType:
		col.conv = convDate
		return col
	case *format.TimestampType:
		col.conv, col.unit = convTimestamp, unitOf(t.Unit)
		return col
	case *format.TimeType:
		col.conv, col.unit = convTime, unitOf(t.Unit)
		return col
	case *format.IntType:
		col.conv = convInt
		if c.DataType == "time" {
			col.conv, col.unit = convDuration, 1_000_000
		}
		if !t.IsSigned && t.BitWidth == 64 {
			col.conv = convUint
		}
		return col
	}
	switch n.Type().Kind() {
	case pq.Boolean:
		col.conv = convBool
	case pq.Int32, pq.Int64:
		col.conv = convInt
	case pq.Float:
		col.conv = convFloat32
	case pq.Double:
		col.conv = convFloat64
		if c.Family() == schema.FamilyDecimal {
			col.conv = convFloatDecimal
		}
	default:
		col.conv = convRaw
		if f := c.Family(); lt != nil && (f == schema.FamilyBinary || f == schema.FamilyBit) {
			col.conv = convBase64
		}
	}
	return col
}

// unitOf is the number of units per second.
func unitOf(u format.TimeUnit) int64 {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return 1_000
	case *format.NanoSeconds:
		return 1_000_000_000
	}
	return 1_000_000
}

// Text converts row to one value per table column in the reader's form.
// The result is reused by the next call.
func (d *Decoder) Text(row pq.Row) ([][]byte, error) {
	for i := range d.cols {
		d.cols[i].typed, d.cols[i].text = pq.Value{}, pq.Value{}
	}
	for _, v := range row {
		c := v.Column()
		if c < 0 || c >= len(d.leaves) || d.leaves[c].col < 0 {
			continue
		}
		l := d.leaves[c]
		if l.member == 2 {
			d.cols[l.col].text = v
		} else {
			d.cols[l.col].typed = v
		}
	}
	d.buf = d.buf[:0]
	for i := range d.cols {
		c := &d.cols[i]
		var err error
		switch {
		case c.skip && (!c.typed.IsNull() || !c.text.IsNull()):
		case !c.typed.IsNull():
			d.buf, err = c.format(d.buf, c.typed)
		case !c.text.IsNull():
			d.buf = append(d.buf, c.text.ByteArray()...)
		default:
			d.ends[i] = -1
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", d.table.Columns[i].Name, err)
		}
		d.ends[i] = len(d.buf)
	}
	start := 0
	for i := range d.out {
		if d.ends[i] < 0 {
			d.out[i] = nil
			continue
		}
		d.out[i] = d.buf[start:d.ends[i]:d.ends[i]]
		start = d.ends[i]
	}
	return d.out, nil
}

// Value is the raw value of table column i in the last row given to
// Text (member0 for a group), valid until the next call.
func (d *Decoder) Value(i int) pq.Value { return d.cols[i].typed }

const dateTimeLayout = "2006-01-02 15:04:05"

func (c *readColumn) format(b []byte, v pq.Value) ([]byte, error) {
	switch c.conv {
	case convInt:
		return strconv.AppendInt(b, v.Int64(), 10), nil
	case convUint:
		return strconv.AppendUint(b, v.Uint64(), 10), nil
	case convBool:
		if v.Boolean() {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	case convFloat32:
		return strconv.AppendFloat(b, float64(v.Float()), 'g', -1, 32), nil
	case convFloat64:
		return strconv.AppendFloat(b, v.Double(), 'g', -1, 64), nil
	case convFloatDecimal:
		return strconv.AppendFloat(b, v.Double(), 'f', c.scale, 64), nil
	case convDecimal:
		switch v.Kind() {
		case pq.Int32:
			return appendDecimal64(b, int64(v.Int32()), c.scale), nil
		case pq.Int64:
			return appendDecimal64(b, v.Int64(), c.scale), nil
		}
		return appendDecimal(b, unscaled(v), c.scale), nil
	case convDate:
		return time.Unix(int64(v.Int32())*86400, 0).UTC().AppendFormat(b, time.DateOnly), nil
	case convTimestamp:
		n := v.Int64()
		sec, frac := floorDiv(n, c.unit)
		b = time.Unix(sec, 0).UTC().AppendFormat(b, dateTimeLayout)
		return c.appendFraction(b, frac), nil
	case convTime:
		sec, frac := floorDiv(v.Int64(), c.unit)
		b = fmt.Appendf(b, "%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
		return c.appendFraction(b, frac), nil
	case convDuration:
		us := v.Int64()
		if us < 0 {
			b, us = append(b, '-'), -us
		}
		sec, frac := us/c.unit, us%c.unit
		b = fmt.Appendf(b, "%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
		return c.appendFraction(b, frac), nil
	case convBase64:
		raw, err := base64.StdEncoding.DecodeString(string(v.ByteArray()))
		if err != nil {
			return b, fmt.Errorf("base64 value: %w", err)
		}
		return append(b, raw...), nil
	}
	return append(b, v.ByteArray()...), nil
}

// appendFraction writes the column's fractional digits as MySQL does:
// exactly fsp of them, none when fsp is 0.
func (c *readColumn) appendFraction(b []byte, frac int64) []byte {
	if c.fsp <= 0 {
		return b
	}
	micros := frac * 1_000_000 / c.unit
	digits := fmt.Sprintf("%06d", micros)
	return append(append(b, '.'), digits[:min(c.fsp, 6)]...)
}

func floorDiv(n, d int64) (int64, int64) {
	q, r := n/d, n%d
	if r < 0 {
		q, r = q-1, r+d
	}
	return q, r
}

// unscaled reads a DECIMAL's unscaled value from INT32, INT64 or a
// big-endian two's complement byte array.
func unscaled(v pq.Value) *big.Int {
	switch v.Kind() {
	case pq.Int32:
		return big.NewInt(int64(v.Int32()))
	case pq.Int64:
		return big.NewInt(v.Int64())
	}
	raw := v.ByteArray()
	n := new(big.Int).SetBytes(raw)
	if len(raw) > 0 && raw[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(raw))))
	}
	return n
}

// appendDecimal writes n scaled down by scale digits: "-1.50".
func appendDecimal(b []byte, n *big.Int, scale int) []byte {
	return appendScaled(b, n.Sign() < 0, new(big.Int).Abs(n).Append(nil, 10), scale)
}

// appendDecimal64 is appendDecimal without allocation, for DECIMALs of
// precision up to 18 (INT32 and INT64 storage).
func appendDecimal64(b []byte, n int64, scale int) []byte {
	u := uint64(n)
	if n < 0 {
		u = -u // two's complement: right for math.MinInt64 too
	}
	var tmp [20]byte
	return appendScaled(b, n < 0, strconv.AppendUint(tmp[:0], u, 10), scale)
}

// appendScaled writes the decimal digits of an absolute value with a point
// scale digits from the right, zero-padded: (true, "150", 2) is "-1.50".
func appendScaled(b []byte, neg bool, digits []byte, scale int) []byte {
	if neg {
		b = append(b, '-')
	}
	if scale == 0 {
		return append(b, digits...)
	}
	if len(digits) <= scale {
		b = append(b, '0', '.')
		for range scale - len(digits) {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	cut := len(digits) - scale
	return append(append(append(b, digits[:cut]...), '.'), digits[cut:]...)
}
