package parquet

import (
	"encoding/base64"
	"math"
	"unicode/utf8"

	pq "github.com/parquet-go/parquet-go"
)

// set stores v with definition level def as the batch's current row in leaf.
func (w *Writer) set(leaf int, v pq.Value, def int) {
	w.vals[leaf][w.n] = v.Level(0, def, leaf)
}

// null stores a NULL in leaf (definition level 0: nothing above it present).
func (w *Writer) null(leaf int) {
	w.vals[leaf][w.n] = pq.Value{}.Level(0, 0, leaf)
}

// copyBytes copies b into the batch arena and returns a value viewing the
// copy: the caller's buffer is reused as soon as Write returns, while the
// column writers copy the batch only at flushBatch.
func (w *Writer) copyBytes(b []byte) pq.Value {
	start := len(w.arena)
	w.arena = append(w.arena, b...)
	return pq.ByteArrayValue(w.arena[start:len(w.arena):len(w.arena)])
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
			w.set(leaf, pq.Int32Value(int32(v)), 1)
		} else {
			w.set(leaf, pq.Int64Value(v), 1)
		}
	case kindUint64:
		v, err := parseUint(b)
		if err != nil {
			return err
		}
		w.set(leaf, pq.Int64Value(int64(v)), 1) // UINT_64: readers reinterpret the bits
	case kindDecimal32, kindDecimal64, kindDecimalFix, kindDecimalText:
		return w.encodeDecimal(c, b)
	case kindFloat:
		f, err := parseFloat(b, 32)
		if err != nil {
			return err
		}
		w.set(leaf, pq.FloatValue(float32(f)), 1)
	case kindDouble:
		f, err := parseFloat(b, 64)
		if err != nil {
			return err
		}
		w.set(leaf, pq.DoubleValue(f), 1)
	case kindDate:
		days, null, err := parseDate(b)
		if err != nil {
			return err
		}
		if null {
			w.null(leaf)
			return nil
		}
		if days < math.MinInt32 || days > math.MaxInt32 {
			return errRange
		}
		w.set(leaf, pq.Int32Value(int32(days)), 1)
	case kindDateTime:
		us, null, err := parseDateTime(b)
		if err != nil {
			return err
		}
		if null {
			w.null(leaf)
			return nil
		}
		w.set(leaf, pq.Int64Value(us), 1)
	case kindTime:
		us, err := parseTime(b)
		if err != nil {
			return err
		}
		if us < 0 || us >= microsPerDay {
			return errTimeOfDay
		}
		w.set(leaf, pq.Int64Value(us), 1)
	case kindBoolText:
		v, err := parseInt(b)
		if err != nil {
			return err
		}
		w.set(leaf, pq.BooleanValue(v != 0), 1)
	case kindBoolBit:
		on := false
		for _, x := range b {
			on = on || x != 0
		}
		w.set(leaf, pq.BooleanValue(on), 1)
	case kindString:
		if !utf8.Valid(b) {
			return errUTF8
		}
		w.set(leaf, w.copyBytes(b), 1)
	case kindBytes:
		w.set(leaf, w.copyBytes(b), 1)
	case kindBase64:
		start := len(w.arena)
		w.arena = base64.StdEncoding.AppendEncode(w.arena, b)
		w.set(leaf, pq.ByteArrayValue(w.arena[start:len(w.arena):len(w.arena)]), 1)
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
		v    pq.Value
		null bool
		err  error
	)
	switch c.kind {
	case kindGroupDate:
		var days int64
		days, null, err = parseDate(b)
		v = pq.Int32Value(int32(days))
	case kindGroupDateTime:
		var us int64
		us, null, err = parseDateTime(b)
		v = pq.Int64Value(us)
	case kindGroupTime:
		var us int64
		us, err = parseTime(b)
		if err == nil && (us < 0 || us >= microsPerDay) {
			err = errTimeOfDay
		}
		v = pq.Int64Value(us)
	}
	switch {
	case null:
		w.null(leaf)
		w.null(leaf + 1)
	case err != nil:
		if !utf8.Valid(b) {
			return errUTF8
		}
		w.set(leaf, pq.Value{}, 1)
		w.set(leaf+1, w.copyBytes(b), 2)
	default:
		w.set(leaf, v, 2)
		w.set(leaf+1, pq.Value{}, 1)
	}
	return nil
}

// encodeDecimal writes the unscaled value of a DECIMAL on its physical type.
func (w *Writer) encodeDecimal(c *column, b []byte) error {
	if c.kind == kindDecimal32 || c.kind == kindDecimal64 {
		if v, ok := unscaledFast(b, c.precision, c.scale); ok {
			if c.kind == kindDecimal32 {
				w.set(c.leaf, pq.Int32Value(int32(v)), 1)
			} else {
				w.set(c.leaf, pq.Int64Value(v), 1)
			}
			return nil
		}
	}
	d, err := splitDecimal(b, c.precision, c.scale)
	if err != nil {
		return err
	}
	switch c.kind {
	case kindDecimal32:
		w.set(c.leaf, pq.Int32Value(int32(d.unscaled64(c.scale))), 1)
		return nil
	case kindDecimal64:
		w.set(c.leaf, pq.Int64Value(d.unscaled64(c.scale)), 1)
		return nil
	case kindDecimalText:
		w.set(c.leaf, w.copyBytes(b), 1)
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
	w.set(c.leaf, pq.FixedLenByteArrayValue(out), 1)
	return nil
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
