package parquet

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"
)

// BenchmarkWriter_ACODERow measures encoding rows of the analitico_diario
// shape into a SNAPPY file, the job's hot path after reading from MySQL.
func BenchmarkWriter_ACODERow(b *testing.B) {
	benchmarkCodec(b, "SNAPPY")
}

func BenchmarkWriter_Codec(b *testing.B) {
	for _, codec := range []string{"UNCOMPRESSED", "SNAPPY", "GZIP", "BROTLI", "LZ4", "ZSTD"} {
		b.Run(codec, func(b *testing.B) { benchmarkCodec(b, codec) })
	}
}

func benchmarkCodec(b *testing.B, codec string) {
	s := mustSchema(b, acodeTable(), ModeExact)
	opts := DefaultOptions()
	opts.Codec = codec
	w, err := NewWriter(io.Discard, s, emittedAt, opts)
	if err != nil {
		b.Fatal(err)
	}
	var g rowGen
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := w.Write(g.next()); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(w.Size())/float64(b.N), "file-bytes/row")
}

// BenchmarkRowGen is the fixture's own cost, to subtract from the above.
func BenchmarkRowGen(b *testing.B) {
	var g rowGen
	for b.Loop() {
		g.next()
	}
}

// TestWriter_PageBoundsInColumnIndex checks what readers prune with is still
// written now that page headers carry no statistics (DataPageStatistics
// off): every column chunk's min/max, and per page the column index's.
func TestWriter_PageBoundsInColumnIndex(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, acodeTable(), ModeExact)
	var g rowGen
	rows := make([][][]byte, 20_000)
	for i := range rows {
		rows[i] = slices.Clone(g.next())
		for j, v := range rows[i] {
			rows[i][j] = slices.Clone(v)
		}
	}
	opts := DefaultOptions()
	opts.PageBytes = 16 << 10 // several pages per column
	data, err := os.ReadFile(writeFile(t, s, opts, rows))
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	indexes := f.ColumnIndexes()
	if len(md.RowGroups) == 0 || len(indexes) != len(md.RowGroups[0].Columns)*len(md.RowGroups) {
		t.Fatalf("%d row groups, %d column indexes", len(md.RowGroups), len(indexes))
	}
	multiPage := false
	for i, c := range md.RowGroups[0].Columns {
		name := strings.Join(c.MetaData.PathInSchema, ".")
		st := c.MetaData.Statistics
		if st.NullCount < c.MetaData.NumValues && (st.MinValue == nil || st.MaxValue == nil) {
			t.Errorf("column %s: no min/max in the chunk's statistics", name)
		}
		ci := indexes[i]
		if len(ci.MinValues) != len(ci.NullPages) || len(ci.MaxValues) != len(ci.NullPages) {
			t.Errorf("column %s: column index of %d pages has %d min and %d max", name, len(ci.NullPages), len(ci.MinValues), len(ci.MaxValues))
		}
		multiPage = multiPage || len(ci.NullPages) > 1
	}
	if !multiPage {
		t.Error("no column has several pages: the check saw only chunk-wide bounds")
	}
}
