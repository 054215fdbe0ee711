package parquet

import (
	"fmt"
	"strings"

	"github.com/klauspost/compress/s2"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/zstd"
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
		return gzipCodec, nil
	case "BROTLI":
		return &pq.Brotli, nil // quality 0: its fastest
	case "ZSTD":
		return zstdCodec, nil
	case "LZ4", "LZ4_RAW":
		return lz4Codec, nil
	default:
		return nil, fmt.Errorf("%w: %q (supported: UNCOMPRESSED, SNAPPY, GZIP, BROTLI, LZ4, ZSTD)", ErrUnsupportedCodec, name)
	}
}

// The levels of the codecs that have them. parquet-go's defaults spend far
// more CPU than a sync can afford for a few percent of bytes. Measured on
// 1M rows of the diario table (a local acode sync, compression's share of
// its CPU from perf; 2026-12-06, a loaded shared machine), against SNAPPY's
// 89.1 MB and 0.27 s:
//
//   - LZ4: parquet-go's default level (Fast, 0) runs the LZ4-HC compressor:
//     70.7 MB for about 46 s, twenty times the whole sync. Fastest is the
//     plain LZ4 block compressor: 84.6 MB for 0.7 s.
//   - ZSTD: SpeedFastest (zstd level 1) 54.5 MB for 0.86 s; the default
//     (level 3) 53.4 MB for 2.16 s.
//   - GZIP: level 1 55.7 MB for 0.95 s; the default level 6 54.7 MB for
//     2.18 s.
//
// Every level writes the same format: readers cannot tell them apart.
var (
	lz4Codec  = &lz4.Codec{Level: lz4.Fastest}
	zstdCodec = &zstd.Codec{Level: zstd.SpeedFastest}
	gzipCodec = &gzip.Codec{Level: gzip.BestSpeed}
)

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

// CodecOf returns the writer's codec for a Parquet file's compression code,
// at acode's levels, so a rewrite of an existing file (reconcile's merge)
// compresses like the sync that wrote it. A code the writer cannot produce
// (LZO, the deprecated Hadoop LZ4) becomes SNAPPY, the default: the rewrite
// must not fail on a codec only the reader side knows.
func CodecOf(c format.CompressionCodec) compress.Codec {
	switch c {
	case format.Uncompressed:
		return &pq.Uncompressed
	case format.Gzip:
		return gzipCodec
	case format.Brotli:
		return &pq.Brotli
	case format.Zstd:
		return zstdCodec
	case format.Lz4Raw:
		return lz4Codec
	default:
		return &fastSnappy{}
	}
}
