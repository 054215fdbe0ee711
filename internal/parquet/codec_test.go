package parquet

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/snappy"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// page returns a Parquet-page-like buffer: repetitive text and numbers.
func page() []byte {
	var g rowGen
	var b bytes.Buffer
	for b.Len() < 1<<20 {
		for _, v := range g.next() {
			b.Write(v)
		}
	}
	return b.Bytes()
}

// TestFastSnappy_OutputIsPlainSnappy decodes the fast encoder's blocks with
// the reference Snappy decoder, and its decoder reads the reference's blocks.
func TestFastSnappy_OutputIsPlainSnappy(t *testing.T) {
	t.Parallel()
	src := page()
	var c fastSnappy
	enc, err := c.Encode(nil, src)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := snappy.Decode(nil, enc)
	if err != nil || !bytes.Equal(dec, src) {
		t.Fatalf("reference snappy decoder: %v, equal=%v", err, bytes.Equal(dec, src))
	}
	back, err := c.Decode(make([]byte, 10), snappy.Encode(nil, src))
	if err != nil || !bytes.Equal(back, src) {
		t.Fatalf("decode of a reference block: %v", err)
	}
	if len(enc) >= len(src)/2 {
		t.Errorf("compressed %d bytes to %d: not compressing", len(src), len(enc))
	}
}

// BenchmarkSnappy compares the fast encoder with parquet-go's own on a 1 MiB page.
func BenchmarkSnappy(b *testing.B) {
	src := page()
	for name, c := range map[string]compress.Codec{"fast": &fastSnappy{}, "parquet-go": &pq.Snappy} {
		b.Run(name, func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				dst, _ = c.Encode(dst[:0], src)
			}
			b.ReportMetric(float64(len(dst))/float64(len(src)), "ratio")
		})
	}
}
