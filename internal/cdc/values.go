package cdc

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/acode-dev/acode/internal/schema"
)

// textValue turns one value decoded by go-mysql into the form MySQL's text
// protocol would have sent for column c, which is what the Parquet writer
// reads (so a change log and a snapshot of the same row encode alike).
// labels are the ENUM or SET member names of the column from the table-map
// event (binlog_row_metadata=FULL). The result is nil only for NULL and
// never aliases v.
func textValue(c schema.Column, v any, labels []string) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return appendText([]byte{}, c, v, labels)
}

// appendText is textValue appending to dst, so the assembler keeps a
// transaction's values in a few large blocks (see rowArena).
func appendText(dst []byte, c schema.Column, v any, labels []string) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return dst, nil
	case int8:
		return signed(dst, c, int64(x), 8), nil
	case int16:
		return signed(dst, c, int64(x), 16), nil
	case int32:
		if c.DataType == "mediumint" {
			return signed(dst, c, int64(x), 24), nil
		}
		return signed(dst, c, int64(x), 32), nil
	case int64:
		return int64Value(dst, c, x, labels)
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case float32:
		return strconv.AppendFloat(dst, float64(x), 'g', -1, 32), nil
	case float64:
		return strconv.AppendFloat(dst, x, 'g', -1, 64), nil
	case string:
		return append(dst, x...), nil
	case []byte:
		return append(dst, x...), nil
	default:
		return nil, fmt.Errorf("unexpected binlog value of type %T for %s", v, c.ColumnType)
	}
}

// textSize is about how many bytes appendText adds for v.
func textSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	}
	return 24 // a number, rendered
}

// signed renders a signed integer of the given width, reinterpreted as
// unsigned when the column is (a server without binlog_row_metadata=FULL
// does not tell go-mysql which columns are unsigned).
func signed(dst []byte, c schema.Column, v int64, width uint) []byte {
	if c.Unsigned && v < 0 {
		return strconv.AppendUint(dst, uint64(v)&(1<<width-1), 10)
	}
	return strconv.AppendInt(dst, v, 10)
}

// int64Value covers the types go-mysql hands over as int64: BIGINT, BIT,
// ENUM (the member's index) and SET (a bit per member).
func int64Value(dst []byte, c schema.Column, v int64, labels []string) ([]byte, error) {
	switch c.DataType {
	case "bit":
		n := (c.Precision + 7) / 8
		if n < 1 {
			n = 1
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(v))
		return append(dst, b[8-n:]...), nil
	case "enum":
		if v == 0 {
			return dst, nil // the error member '' strict mode forbids
		}
		if int(v) > len(labels) {
			return nil, fmt.Errorf("enum index %d outside the %d labels the binlog lists (is binlog_row_metadata FULL?)", v, len(labels))
		}
		return append(dst, labels[v-1]...), nil
	case "set":
		for m, first := uint64(v), true; m != 0; m, first = m&(m-1), false {
			i := bits.TrailingZeros64(m)
			if i >= len(labels) {
				return nil, fmt.Errorf("set bit %d outside the %d labels the binlog lists (is binlog_row_metadata FULL?)", i, len(labels))
			}
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, labels[i]...)
		}
		return dst, nil
	}
	if c.Unsigned && v < 0 {
		return strconv.AppendUint(dst, uint64(v), 10), nil
	}
	return strconv.AppendInt(dst, v, 10), nil
}
