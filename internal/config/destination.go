package config

import "strings"

// Destination kinds.
const (
	KindS3    = "s3"    // s3_bucket_name is set: airbyte/destination-s3
	KindLocal = "local" // destination_path is set: a local directory, same layout keys
)

// DefaultPathFormat is destination-s3's s3_path_format when the key is absent.
const DefaultPathFormat = "${NAMESPACE}/${STREAM_NAME}/${YEAR}_${MONTH}_${DAY}_${EPOCH}_"

// Server-side encryption modes for S3.
const (
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
)

// Destination is where Parquet files go: an S3 bucket (destination-s3's
// configuration) or a local directory (destination_path) laid out the same
// way.
type Destination struct {
	File         string // absolute path of its configuration.yaml
	ResourceName string
	Kind         string // KindS3 or KindLocal

	Bucket          string
	Region          string
	BucketPath      string // s3_bucket_path, prefix of every key
	PathFormat      string // s3_path_format with Airbyte's ${...} variables left for rendering
	Endpoint        string // S3-compatible server; implies path-style addressing
	AccessKeyID     Secret // empty: the SDK's default credential chain
	SecretAccessKey Secret
	LocalPath       string // absolute; KindLocal only
	FileNamePattern string

	ServerSideEncryption string // "", SSEAES256 or SSEKMS
	KMSKeyID             string

	Format Format
}

// Compression codecs accepted in format.compression_codec.
var compressionCodecs = []string{"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD"}

// Format is destination-s3's Parquet format block, with its defaults.
type Format struct {
	FormatType           string // "Parquet", the only one acode writes
	CompressionCodec     string // UNCOMPRESSED SNAPPY GZIP BROTLI LZ4 ZSTD
	BlockSizeMB          int    // row group size
	MaxPaddingSizeMB     int
	PageSizeKB           int
	DictionaryPageSizeKB int
	DictionaryEncoding   bool
}

// DefaultFormat is destination-s3's Parquet defaults.
func DefaultFormat() Format {
	return Format{
		FormatType:           "Parquet",
		CompressionCodec:     "SNAPPY",
		BlockSizeMB:          128,
		MaxPaddingSizeMB:     8,
		PageSizeKB:           1024,
		DictionaryPageSizeKB: 1024,
		DictionaryEncoding:   true,
	}
}

func (l *loader) decodeDestination(f *fileDecoder, root *mapNode, file string) *Destination {
	d := &Destination{File: file, PathFormat: DefaultPathFormat, Format: DefaultFormat()}
	l.octaviaHeader(root, "destination", &d.ResourceName)
	cfg := root.child("configuration")
	root.finish()
	if cfg == nil {
		root.missing("configuration")
		return d
	}
	hasBucket := cfg.str("s3_bucket_name", &d.Bucket)
	var local string
	hasLocal := cfg.str("destination_path", &local)
	switch {
	case hasBucket && hasLocal:
		cfg.errorf("destination_path", "set either s3_bucket_name (S3) or destination_path (local directory), not both")
	case hasBucket:
		d.Kind = KindS3
	case hasLocal:
		d.Kind = KindLocal
		if strings.TrimSpace(local) == "" && !cfg.wasBad("destination_path") {
			cfg.missing("destination_path")
		} else if local != "" {
			d.LocalPath = l.resolve(local)
		}
	default:
		cfg.errorf("s3_bucket_name", "required key is missing: set s3_bucket_name (S3) or destination_path (local directory)")
	}

	cfg.str("s3_bucket_region", &d.Region)
	if d.Kind == KindS3 {
		cfg.required("s3_bucket_path", &d.BucketPath)
		if d.Bucket == "" && !cfg.wasBad("s3_bucket_name") {
			cfg.missing("s3_bucket_name")
		}
	} else {
		cfg.str("s3_bucket_path", &d.BucketPath)
	}
	if cfg.has("s3_path_format") {
		cfg.required("s3_path_format", &d.PathFormat)
	}
	cfg.str("s3_endpoint", &d.Endpoint)
	if d.Kind == KindS3 && d.Region == "" && d.Endpoint == "" && !cfg.wasBad("s3_bucket_region") {
		cfg.missing("s3_bucket_region")
	}
	cfg.str("file_name_pattern", &d.FileNamePattern)
	hasKey := cfg.secret("access_key_id", &d.AccessKeyID)
	hasSecret := cfg.secret("secret_access_key", &d.SecretAccessKey)
	if hasKey != hasSecret {
		cfg.errorf("secret_access_key", "access_key_id and secret_access_key go together: set both, or neither to use the default AWS credential chain")
	}
	cfg.enum("server_side_encryption", &d.ServerSideEncryption, SSEAES256, SSEKMS)
	if cfg.str("kms_key_id", &d.KMSKeyID) && d.ServerSideEncryption != SSEKMS {
		cfg.errorf("kms_key_id", "only used with server_side_encryption: aws:kms")
	}
	if fm := cfg.child("format"); fm != nil {
		decodeFormat(fm, &d.Format)
	} else if !cfg.wasBad("format") {
		cfg.errorf("format", "required key is missing (format_type: Parquet)")
	}
	cfg.ignore("role_arn", "s3_bucket_path_pattern")
	cfg.finish()
	return d
}

func decodeFormat(m *mapNode, f *Format) {
	if !m.enum("format_type", &f.FormatType, "Parquet") && !m.wasBad("format_type") {
		m.missing("format_type")
	}
	if m.enum("compression_codec", &f.CompressionCodec, compressionCodecs...) && f.CompressionCodec == "LZO" {
		m.errorf("compression_codec", "LZO is not supported by acode's Parquet writer; use SNAPPY, ZSTD, GZIP, LZ4, BROTLI or UNCOMPRESSED")
	}
	m.integer("block_size_mb", &f.BlockSizeMB, 1, 1<<16)
	m.integer("max_padding_size_mb", &f.MaxPaddingSizeMB, 0, 1<<16)
	m.integer("page_size_kb", &f.PageSizeKB, 1, 1<<20)
	m.integer("dictionary_page_size_kb", &f.DictionaryPageSizeKB, 1, 1<<20)
	m.boolean("dictionary_encoding", &f.DictionaryEncoding)
	// "compression" and "flattening" belong to the CSV and JSONL formats;
	// destination-s3 ignores them for Parquet and so do we.
	m.ignore("compression", "flattening")
	m.finish()
}
