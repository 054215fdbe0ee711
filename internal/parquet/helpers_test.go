package parquet

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/acode-dev/acode/internal/schema"
)

// emittedAt is the job time every test file carries.
var emittedAt = time.Date(2025, 8, 7, 3, 0, 0, 123_000_000, time.UTC)

// writeFile writes rows to a new file in a temp dir and returns its path.
func writeFile(t testing.TB, s *Schema, opts Options, rows [][][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "part.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, s, emittedAt, opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write row %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := w.Rows(); got != int64(len(rows)) {
		t.Fatalf("Rows() = %d, want %d", got, len(rows))
	}
	return path
}

func mustSchema(t testing.TB, cols []schema.Column, mode Mode) *Schema {
	t.Helper()
	s, err := NewSchema(schema.Table{Namespace: "acode", Name: "t", Columns: cols}, mode)
	if err != nil {
		t.Fatalf("NewSchema: %v", err)
	}
	return s
}

// readBack reads every row of a file with parquet-go and renders each leaf
// value as text the way DuckDB casts it to VARCHAR (NULL as nil), so both
// readers can be held to the same expectations.
func readBack(t testing.TB, path string) (leaves []string, rows [][]any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go open: %v", err)
	}
	var types []pq.Type
	for _, p := range f.Schema().Columns() {
		leaf, _ := f.Schema().Lookup(p...)
		leaves = append(leaves, strings.Join(p, "."))
		types = append(types, leaf.Node.Type())
	}
	r := pq.NewReader(f)
	defer r.Close()
	buf := make([]pq.Row, 64)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			out := make([]any, len(leaves))
			for _, v := range row {
				c := v.Column()
				if v.IsNull() {
					continue
				}
				out[c] = render(v, types[c])
			}
			rows = append(rows, out)
		}
		if err != nil {
			break
		}
	}
	return leaves, rows
}

func render(v pq.Value, t pq.Type) string {
	var lv format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		lv = lt.Value
	}
	switch lt := lv.(type) {
	case *format.DecimalType:
		var u big.Int
		switch v.Kind() {
		case pq.Int32:
			u.SetInt64(int64(v.Int32()))
		case pq.Int64:
			u.SetInt64(v.Int64())
		default:
			b := v.ByteArray()
			u.SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 {
				u.Sub(&u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
		}
		return formatUnscaled(&u, int(lt.Scale))
	case *format.IntType:
		if !lt.IsSigned {
			return strconv.FormatUint(v.Uint64(), 10)
		}
	case *format.DateType:
		return time.Unix(int64(v.Int32())*86400, 0).UTC().Format("2006-01-02")
	case *format.TimestampType:
		ts := time.UnixMicro(v.Int64()).UTC()
		if _, ms := lt.Unit.Value.(*format.MilliSeconds); ms {
			ts = time.UnixMilli(v.Int64()).UTC()
		}
		s := ts.Format("2006-01-02 15:04:05.999999")
		if lt.IsAdjustedToUTC {
			s += "+00"
		}
		return s
	case *format.TimeType:
		return time.UnixMicro(v.Int64()).UTC().Format("15:04:05.999999")
	case *format.StringType:
		return string(v.ByteArray())
	}
	switch v.Kind() {
	case pq.Boolean:
		return strconv.FormatBool(v.Boolean())
	case pq.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case pq.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case pq.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32)
	case pq.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	default:
		return strings.ToUpper(hex.EncodeToString(v.ByteArray()))
	}
}

func formatUnscaled(u *big.Int, scale int) string {
	neg := u.Sign() < 0
	digits := new(big.Int).Abs(u).String()
	for len(digits) <= scale {
		digits = "0" + digits
	}
	s := digits
	if scale > 0 {
		s = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// sameValue compares a reader's text with the expected one; floating point
// columns compare as numbers, since every reader prints them its own way.
func sameValue(got, want any, float bool) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	gs, ws := fmt.Sprint(got), fmt.Sprint(want)
	if !float {
		return gs == ws
	}
	g, err1 := strconv.ParseFloat(gs, 64)
	w, err2 := strconv.ParseFloat(ws, 64)
	return err1 == nil && err2 == nil && (g == w || float32(g) == float32(w))
}
