package parquet

import (
	"testing"

	"github.com/parquet-go/parquet-go/format"
)

// A rewrite keeps the file's codec when the writer can produce it and falls
// back to SNAPPY when it cannot, instead of a codec that fails every page.
func TestCodecOf_KeepsWhatTheWriterProducesElseSnappy(t *testing.T) {
	for _, tc := range []struct {
		in, want format.CompressionCodec
	}{
		{format.Uncompressed, format.Uncompressed},
		{format.Snappy, format.Snappy},
		{format.Gzip, format.Gzip},
		{format.Brotli, format.Brotli},
		{format.Zstd, format.Zstd},
		{format.Lz4Raw, format.Lz4Raw},
		{format.LZO, format.Snappy},
		{format.Lz4, format.Snappy},
	} {
		c := CodecOf(tc.in)
		if got := c.CompressionCodec(); got != tc.want {
			t.Errorf("CodecOf(%v) writes %v, want %v", tc.in, got, tc.want)
		}
		page := []byte("the same page twice the same page twice")
		enc, err := c.Encode(nil, page)
		if err != nil {
			t.Fatalf("CodecOf(%v).Encode: %v", tc.in, err)
		}
		if dec, err := c.Decode(nil, enc); err != nil || string(dec) != string(page) {
			t.Errorf("CodecOf(%v) round trip = %q, %v", tc.in, dec, err)
		}
	}
}
