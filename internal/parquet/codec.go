package parquet

import (
	"fmt"
	"strings"

	"github.com/klauspost/compress/s2"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"
)

// DefaultCodec is destination-s3's default compression_codec.
const DefaultCodec = "SNAPPY"

// codecFor returns the codec for a destination's compression_codec name
// (case-insensitive; empty means SNAPPY). LZ4 is written as LZ4_RAW, the only
// LZ4 flavour the Parquet format still specifies (the old Hadoop "LZ4" codec
// is deprecated and read inconsistently); Athena, Spark 3.4+ and DuckDB read it.
func codecFor(name string) (compress.Codec, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "", "SNAPPY":
		return &fastSnappy{}, nil
	case "UNCOMPRESSED", "NONE":
		return &pq.Uncompressed, nil
	case "GZIP":
		return &pq.Gzip, nil
	case "BROTLI":
		return &pq.Brotli, nil
	case "ZSTD":
		return &pq.Zstd, nil
	case "LZ4", "LZ4_RAW":
		return &pq.Lz4Raw, nil
	default:
		return nil, fmt.Errorf("%w: %q (supported: UNCOMPRESSED, SNAPPY, GZIP, BROTLI, LZ4, ZSTD)", ErrUnsupportedCodec, name)
	}
}

// ValidateCodec reports whether the writer can produce the named codec, so a
// config check can reject e.g. LZO before a job starts.
func ValidateCodec(name string) error {
	_, err := codecFor(name)
	return err
}

// fastSnappy is the SNAPPY codec with a faster encoder. parquet-go's own codec
// calls klauspost's snappy.Encode, which runs the slow "better" mode; s2's
// EncodeSnappy writes a plain Snappy block (any Snappy reader decodes it) at
// several times the speed for a slightly larger output.
type fastSnappy struct{}

var _ compress.Codec = (*fastSnappy)(nil)

func (*fastSnappy) String() string { return "SNAPPY" }

func (*fastSnappy) CompressionCodec() format.CompressionCodec { return format.Snappy }

func (*fastSnappy) Encode(dst, src []byte) ([]byte, error) {
	if n := s2.MaxEncodedLen(len(src)); n < 0 {
		return dst[:0], fmt.Errorf("snappy: page of %d bytes is too large", len(src))
	} else if cap(dst) < n {
		dst = make([]byte, n)
	}
	return s2.EncodeSnappy(dst[:cap(dst)], src), nil
}

func (*fastSnappy) Decode(dst, src []byte) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return dst[:0], fmt.Errorf("snappy: %w", err)
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	out, err := s2.Decode(dst[:cap(dst)], src)
	if err != nil {
		return dst[:0], fmt.Errorf("snappy: %w", err)
	}
	return out, nil
}
