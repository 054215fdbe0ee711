package parquet

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"unicode/utf8"
)

// The setters below fill the batch's current row of a leaf in place: a val
// is small and holds no pointer, so filling it is a few stores. The
// setters' def is the value's definition level: how many optional fields on
// its path are present (0 is NULL at the top).

// slot is the batch's current row of leaf.
func (w *Writer) slot(leaf int) *val { return &w.vals[leaf*batchRows+w.n] }

func (w *Writer) setBits(leaf int, x uint64, def int) {
	p := w.slot(leaf)
	p.x, p.def = x, uint8(def)
}

func (w *Writer) setInt32(leaf int, x int32, def int) { w.setBits(leaf, uint64(uint32(x)), def) }
func (w *Writer) setInt64(leaf int, x int64, def int) { w.setBits(leaf, uint64(x), def) }
func (w *Writer) setFloat(leaf int, x float32, def int) {
	w.setBits(leaf, uint64(math.Float32bits(x)), def)
}
func (w *Writer) setDouble(leaf int, x float64, def int) { w.setBits(leaf, math.Float64bits(x), def) }

func (w *Writer) setBool(leaf int, x bool, def int) {
	var b uint64
	if x {
		b = 1
	}
	w.setBits(leaf, b, def)
}

// setBytes stores a byte value: the arena's bytes from start to its end.
func (w *Writer) setBytes(leaf, start, def int) {
	p := w.slot(leaf)
	p.off, p.end, p.def = uint32(start), uint32(len(w.arena)), uint8(def)
}

// nullAt stores a NULL whose path is present down to definition level def.
func (w *Writer) nullAt(leaf, def int) { w.slot(leaf).def = uint8(def) }

// null stores a NULL in leaf (definition level 0: nothing above it present).
func (w *Writer) null(leaf int) { w.nullAt(leaf, 0) }

// nullUnheld stores a NULL for a value the column's Parquet type cannot
// hold (a zero or partial zero date) and counts it, so the change is
// reported rather than silent.
func (w *Writer) nullUnheld(c *column) {
	w.nulled[c.index]++
	w.null(c.leaf)
}

// copyBytes copies b into the batch arena and returns where it starts: the
// caller's buffer is reused as soon as Write returns, while the column
// writers copy the batch only at flushBatch.
func (w *Writer) copyBytes(b []byte) int {
	start := len(w.arena)
	w.arena = append(w.arena, b...)
	return start
}

// encode converts one text value of column c into its leaf values.
func (w *Writer) encode(c *column, b []byte) error {
	leaf := c.leaf
	if b == nil {
		w.null(leaf)
		if c.kind.leaves() == 2 {
			w.null(leaf + 1)
		}
		return nil
	}
	switch c.kind {
	case kindInt32, kindInt64:
		v, err := parseInt(b)
		if err != nil {
			return err
		}
		if v < c.min || v > c.max {
			return errRange
		}
		if c.kind == kindInt32 {
			w.setInt32(leaf, int32(v), 1)
		} else {
			w.setInt64(leaf, v, 1)
		}
	case kindUint64:
		v, err := parseUint(b)
		if err != nil {
			return err
		}
		w.setInt64(leaf, int64(v), 1) // UINT_64: readers reinterpret the bits
	case kindDecimal32:
		if v, ok := unscaledFast(b, c.precision, c.scale); ok {
			w.setInt32(leaf, int32(v), 1)
			return nil
		}
		return w.encodeDecimal(c, b)
	case kindDecimal64:
		if v, ok := unscaledFast(b, c.precision, c.scale); ok {
			w.setInt64(leaf, v, 1)
			return nil
		}
		return w.encodeDecimal(c, b)
	case kindDecimalFix, kindDecimalText:
		return w.encodeDecimal(c, b)
	case kindFloat:
		f, err := parseFloat(b, 32)
		if err != nil {
			return err
		}
		w.setFloat(leaf, float32(f), 1)
	case kindDouble:
		f, err := parseFloat(b, 64)
		if err != nil {
			return err
		}
		w.setDouble(leaf, f, 1)
	case kindDate:
		days, null, err := parseDate(b)
		if err != nil {
			if !errors.Is(err, errZeroInDate) {
				return err
			}
			null = true
		}
		if null {
			w.nullUnheld(c)
			return nil
		}
		if days < math.MinInt32 || days > math.MaxInt32 {
			return errRange
		}
		w.setInt32(leaf, int32(days), 1)
	case kindDateTime:
		us, null, err := parseDateTime(b)
		if err != nil {
			if !errors.Is(err, errZeroInDate) {
				return err
			}
			null = true
		}
		if null {
			w.nullUnheld(c)
			return nil
		}
		w.setInt64(leaf, us, 1)
	case kindDuration:
		us, err := parseTime(b)
		if err != nil {
			return err
		}
		w.setInt64(leaf, us, 1)
	case kindTime:
		us, err := parseTime(b)
		if err != nil {
			return err
		}
		if us < 0 || us >= microsPerDay {
			return errTimeOfDay
		}
		w.setInt64(leaf, us, 1)
	case kindBoolText:
		v, err := parseInt(b)
		if err != nil {
			return err
		}
		w.setBool(leaf, v > 0, 1)
	case kindBoolInt:
		v, err := parseInt(b)
		if err != nil {
			return err
		}
		if v != 0 && v != 1 {
			return errNotBoolean
		}
		w.setBool(leaf, v == 1, 1)
	case kindBoolBit:
		on := false
		for _, x := range b {
			on = on || x != 0
		}
		w.setBool(leaf, on, 1)
	case kindString:
		if !validUTF8(b) {
			return errUTF8
		}
		w.setBytes(leaf, w.copyBytes(b), 1)
	case kindBytes:
		w.setBytes(leaf, w.copyBytes(b), 1)
	case kindWKB:
		wkb, err := w.geo.observe(c.index, b)
		if err != nil {
			return err
		}
		w.setBytes(leaf, w.copyBytes(wkb), 1)
	case kindBase64:
		start := len(w.arena)
		w.arena = base64.StdEncoding.AppendEncode(w.arena, b)
		w.setBytes(leaf, start, 1)
	case kindGroupDate, kindGroupDateTime, kindGroupTime:
		return w.encodeUnion(c, b)
	}
	return nil
}

// encodeUnion writes airbyte mode's {member0: typed, member1: STRING}: the
// typed member when the text parses, else the text itself in member1, as
// Airbyte's Avro converter does. Zero dates are NULL, as in exact mode.
func (w *Writer) encodeUnion(c *column, b []byte) error {
	leaf := c.leaf
	var (
		v    int64
		null bool
		err  error
	)
	switch c.kind {
	case kindGroupDate:
		v, null, err = parseDate(b)
	case kindGroupDateTime:
		v, null, err = parseDateTime(b)
	case kindGroupTime:
		v, err = parseTime(b)
		if err == nil && (v < 0 || v >= microsPerDay) {
			err = errTimeOfDay
		}
	}
	switch {
	case null:
		w.nulled[c.index]++
		w.null(leaf)
		w.null(leaf + 1)
	case err != nil:
		if !utf8.Valid(b) {
			return errUTF8
		}
		w.nullAt(leaf, 1)
		w.setBytes(leaf+1, w.copyBytes(b), 2)
	case c.kind == kindGroupDate:
		w.setInt32(leaf, int32(v), 2)
		w.nullAt(leaf+1, 1)
	default:
		w.setInt64(leaf, v, 2)
		w.nullAt(leaf+1, 1)
	}
	return nil
}

// encodeDecimal writes the unscaled value of a DECIMAL on its physical type,
// through the checked parse that names what is wrong with a value. encode
// tries unscaledFast first for the INT32 and INT64 decimals.
func (w *Writer) encodeDecimal(c *column, b []byte) error {
	d, err := splitDecimal(b, c.precision, c.scale)
	if err != nil {
		return err
	}
	switch c.kind {
	case kindDecimal32:
		w.setInt32(c.leaf, int32(d.unscaled64(c.scale)), 1)
		return nil
	case kindDecimal64:
		w.setInt64(c.leaf, d.unscaled64(c.scale), 1)
		return nil
	case kindDecimalText:
		w.setBytes(c.leaf, w.copyBytes(b), 1)
		return nil
	}
	start := len(w.arena)
	w.arena = append(w.arena, make([]byte, c.size)...)
	out := w.arena[start:]
	if d.digits(c.scale) <= 18 {
		v := d.unscaled64(c.scale)
		for i := c.size - 1; i >= 0; i-- {
			out[i] = byte(v)
			v >>= 8 // arithmetic shift: sign-extends negatives
		}
	} else {
		w.digits = d.appendUnscaledDigits(w.digits[:0], c.scale)
		if _, ok := w.bigVal.SetString(bstr(w.digits), 10); !ok {
			return errSyntax
		}
		w.bigVal.FillBytes(out) // magnitude; fits: precision was checked
		if d.neg {
			negate(out)
		}
	}
	w.setBytes(c.leaf, start, 1)
	return nil
}

// validUTF8 is utf8.Valid with the answer for short ASCII text (codes,
// CNPJs, EANs: most string values) taken from two overlapping words,
// without the call.
func validUTF8(b []byte) bool {
	if n := len(b); n >= 8 && n <= 16 {
		le := binary.LittleEndian
		if (le.Uint64(b)|le.Uint64(b[n-8:]))&0x8080808080808080 == 0 {
			return true
		}
	}
	return utf8.Valid(b)
}

// negate turns a big-endian magnitude into its two's complement negative.
func negate(b []byte) {
	carry := true
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = ^b[i]
		if carry {
			b[i]++
			carry = b[i] == 0
		}
	}
}
