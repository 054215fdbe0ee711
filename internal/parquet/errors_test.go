package parquet

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

// TestWrite_InvalidValueNamesColumnAndSkipsRow checks that a value that does
// not fit its column is reported with the column's name and the value, and
// that the writer goes on to produce a valid file without that row.
func TestWrite_InvalidValueNamesColumnAndSkipsRow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		col   schema.Column
		value string
		cause error
	}{
		{col("qty", "int", "int(11)", false, 10, 0), "12a", errSyntax},
		{col("qty", "int", "int(11)", false, 10, 0), "2147483648", errRange},
		{col("tiu", "tinyint", "tinyint(3) unsigned", true, 3, 0), "-1", errRange},
		{col("biu", "bigint", "bigint(20) unsigned", true, 20, 0), "18446744073709551616", errRange},
		{col("vl", "decimal", "decimal(5,2)", false, 5, 2), "1000.00", errRange},
		{col("vl", "decimal", "decimal(5,2)", false, 5, 2), "1.234", errRange},
		{col("vl", "decimal", "decimal(20,4)", false, 20, 4), "1e5", errSyntax},
		{col("dt", "date", "date", false, 0, 0), "2025-02-30", errRange},
		{col("dt", "date", "date", false, 0, 0), "2025-13-10", errRange},
		{col("dtm", "datetime", "datetime", false, 0, 0), "2025-00-10 24:00:00", errRange},
		{col("dtm", "datetime", "datetime", false, 0, 0), "2025-08-07T12:00:00", errSyntax},
		{col("tm", "time", "time", false, 0, 0), "12:60:00", errRange},
		{col("tm", "time", "time", false, 0, 0), "1:2", errSyntax},
		{col("geo", "geometry", "geometry", false, 0, 0), "\x00\x00\x00\x00\x01", errGeometry},
		{col("nome", "varchar", "varchar(10)", false, 0, 0), "caf\xe9", errUTF8},
		{col("f", "double", "double", false, 0, 0), "1e999", errRange},
	}
	for _, c := range cases {
		s := mustSchema(t, []schema.Column{c.col}, ModeExact)
		var buf bytes.Buffer
		w, err := NewWriter(&buf, s, emittedAt, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write([][]byte{[]byte(c.value)})
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Column != c.col.Name || ve.Value != c.value || !errors.Is(err, c.cause) {
			t.Errorf("%s %q: got %v, want ValueError for column %s caused by %v", c.col.ColumnType, c.value, err, c.col.Name, c.cause)
		}
		if err := w.Write([][]byte{nil}); err != nil {
			t.Fatalf("writer unusable after a ValueError: %v", err)
		}
		if err := w.Close(); err != nil || w.Rows() != 1 {
			t.Fatalf("Close: %v, rows %d, want 1", err, w.Rows())
		}
	}
}

func TestValueError_TruncatesLongValues(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, []schema.Column{col("n", "int", "int(11)", false, 10, 0)}, ModeExact)
	w, _ := NewWriter(&bytes.Buffer{}, s, emittedAt, DefaultOptions())
	err := w.Write([][]byte{[]byte(strings.Repeat("9", 1000))})
	var ve *ValueError
	if !errors.As(err, &ve) || len(ve.Value) != maxValueInError || len(err.Error()) > 200 {
		t.Fatalf("got %v", err)
	}
}

func TestWrite_RowWidthMismatchIsAnError(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, []schema.Column{col("a", "int", "int(11)", false, 10, 0)}, ModeExact)
	w, _ := NewWriter(&bytes.Buffer{}, s, emittedAt, DefaultOptions())
	if err := w.Write([][]byte{nil, nil}); !errors.Is(err, ErrRowWidth) {
		t.Fatalf("got %v, want ErrRowWidth", err)
	}
	_ = w.Close()
	if err := w.Write([][]byte{nil}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}
}

func TestNewSchema_RejectsWhatHasNoParquetForm(t *testing.T) {
	t.Parallel()
	for _, c := range []schema.Column{
		col("v", "vector", "vector(3)", false, 0, 0), // MariaDB 11.7's, not mapped yet
	} {
		for _, mode := range []Mode{ModeExact, ModeAirbyte} {
			_, err := NewSchema(schema.Table{Name: "t", Columns: []schema.Column{c}}, mode)
			if !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), c.Name) || !strings.Contains(err.Error(), c.ColumnType) {
				t.Errorf("%s in %s mode: got %v, want ErrUnsupportedType naming the column and type", c.ColumnType, mode, err)
			}
		}
	}
	_, err := NewSchema(schema.Table{Name: "t", Columns: []schema.Column{col("_airbyte_ab_id", "int", "int", false, 0, 0)}}, ModeExact)
	if err == nil || !strings.Contains(err.Error(), "_airbyte_ab_id") {
		t.Errorf("column named like a metadata column: got %v", err)
	}
	if _, err := NewSchema(schema.Table{Name: "t"}, "avro"); !errors.Is(err, ErrUnknownMode) {
		t.Errorf("unknown mode: got %v", err)
	}
}

func TestValidateCodec(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "snappy", "SNAPPY", "UNCOMPRESSED", "GZIP", "BROTLI", "LZ4", "LZ4_RAW", "ZSTD"} {
		if err := ValidateCodec(ok); err != nil {
			t.Errorf("ValidateCodec(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"LZO", "xz"} {
		if err := ValidateCodec(bad); !errors.Is(err, ErrUnsupportedCodec) {
			t.Errorf("ValidateCodec(%q) = %v, want ErrUnsupportedCodec", bad, err)
		}
	}
}

// failAfter accepts n bytes, then fails like a full disk.
type failAfter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWrite_OutputErrorIsStickyAndSurfaces: when the destination fails, the
// error reaches the caller (from Write or at the latest Close) and the writer
// refuses further rows instead of producing a truncated file silently.
func TestWrite_OutputErrorIsStickyAndSurfaces(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, acodeTable(), ModeExact)
	opts := DefaultOptions()
	opts.RowGroupRows = 1000
	w, err := NewWriter(&failAfter{n: 10_000}, s, emittedAt, opts)
	if err != nil {
		t.Fatal(err)
	}
	var g rowGen
	var werr error
	for i := 0; i < 5000 && werr == nil; i++ {
		werr = w.Write(g.next())
	}
	if !errors.Is(werr, errDiskFull) {
		t.Fatalf("Write error %v, want the output's error", werr)
	}
	if err := w.Write(g.next()); !errors.Is(err, errDiskFull) {
		t.Fatalf("Write after failure: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close after failure: %v", err)
	}
}
