package parquet

import (
	"io"
	"testing"
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
