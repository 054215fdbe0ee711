package parquet

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/snappy"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/zstd"
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

// TestCodecFor_FastLevels pins the levels codecFor picks (see lz4Codec):
// parquet-go's default LZ4 level runs LZ4-HC, which made an LZ4 sync spend
// twenty times the CPU of a SNAPPY one, and its ZSTD and GZIP defaults
// cost 2.3-2.5 times their fastest levels for 2% fewer bytes.
func TestCodecFor_FastLevels(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]compress.Codec{
		"LZ4": &lz4.Codec{Level: lz4.Fastest}, "lz4_raw": &lz4.Codec{Level: lz4.Fastest},
		"ZSTD": &zstd.Codec{Level: zstd.SpeedFastest}, "GZIP": &gzip.Codec{Level: gzip.BestSpeed},
	} {
		c, err := codecFor(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var level, wantLevel any
		switch c := c.(type) {
		case *lz4.Codec:
			level, wantLevel = c.Level, want.(*lz4.Codec).Level
		case *zstd.Codec:
			level, wantLevel = c.Level, want.(*zstd.Codec).Level
		case *gzip.Codec:
			level, wantLevel = c.Level, want.(*gzip.Codec).Level
		default:
			t.Fatalf("%s: codec %T, want %T", name, c, want)
		}
		if level != wantLevel || c.CompressionCodec() != want.CompressionCodec() {
			t.Errorf("%s: %s level %v, want %s level %v", name, c, level, want, wantLevel)
		}
	}
}

// TestCodecs_FastLevelsStillCompress checks the fast levels still shrink a
// page of the diario shape, and decode back to it.
func TestCodecs_FastLevelsStillCompress(t *testing.T) {
	t.Parallel()
	src := page()
	for _, name := range []string{"LZ4", "ZSTD", "GZIP"} {
		c, err := codecFor(name)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := c.Encode(nil, src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dec, err := c.Decode(nil, enc)
		if err != nil || !bytes.Equal(dec, src) {
			t.Fatalf("%s: decode: %v, equal=%v", name, err, bytes.Equal(dec, src))
		}
		if len(enc) >= len(src)/2 {
			t.Errorf("%s: compressed %d bytes to %d: not compressing", name, len(src), len(enc))
		}
	}
}
