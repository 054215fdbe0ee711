package demo

import "testing"

func BenchmarkGenerateDiario(b *testing.B) {
	w := newWorld(Options{Rows: 1_000_000, Now: anchor, Seed: 1})
	var buf []byte
	for b.Loop() {
		buf = w.generate(buf[:0], batch{table: 1, from: 0, to: batchRows})
	}
	b.ReportMetric(float64(batchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
