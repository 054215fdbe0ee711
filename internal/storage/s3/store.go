// Package s3 is the S3 storage backend (AWS or any S3-compatible server),
// built on aws-sdk-go-v2. An upload is one PUT below the part size and a
// multipart upload above it that is either completed whole or aborted, so
// a reader never sees a partial object. A file body (a sync's spool file)
// is uploaded in sections read from the file (sections.go); any other
// body goes through the SDK's transfermanager.
// Retries of 5xx and throttling answers are the SDK's standard retryer.
package s3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acode-dev/acode/internal/storage"
)

// Defaults for the zero values of Config: 8 MiB parts two at a time
// overlap the parts' round trips. A file body's parts are read from the
// file (see FileUploadMemory); for any other body the transfer manager
// buffers Concurrency+1 whole parts in memory, about 24 MiB per upload.
const (
	DefaultPartSizeBytes = 8 << 20
	DefaultConcurrency   = 2
	DefaultMaxAttempts   = 5
	DefaultListPageSize  = 1000
	// DefaultReadTimeout is how long a connection may deliver no byte
	// before the request fails (and is retried): the SDK sets none for
	// S3, so a server that accepts and never answers would hold a sync, an
	// archive or a commit until its context ends. It restarts with every
	// byte, so a slow CompleteMultipartUpload (which sends keep-alive
	// spaces) or a big GET that is progressing never trips it.
	DefaultReadTimeout = 2 * time.Minute

	minPartSize = 5 << 20 // S3's minimum for every part but the last
	maxParts    = 10000   // S3's maximum parts per upload
	// maxCopySize is CopyObject's limit; larger copies need UploadPartCopy.
	maxCopySize = 5 << 30
	// abortTimeout bounds the AbortMultipartUpload sent after a failure,
	// on a fresh context so a cancelled upload still cleans up.
	abortTimeout = 30 * time.Second
)

// Config says where and how to reach the bucket. Keys passed to the Store
// are full object keys: the caller adds any path prefix.
type Config struct {
	Bucket string
	// Region is the bucket's region; empty means the SDK's default chain
	// (AWS_REGION, shared config), or "us-east-1" with a custom Endpoint.
	Region string
	// Endpoint is an S3-compatible server's base URL; setting it switches
	// to path-style addressing.
	Endpoint string
	// AccessKeyID and SecretAccessKey are static credentials; both empty
	// means the SDK's default credential chain (env, profile, IAM role).
	AccessKeyID     string
	SecretAccessKey string
	// ServerSideEncryption is "", "AES256" or "aws:kms"; KMSKeyID optionally
	// names the key for "aws:kms".
	ServerSideEncryption string
	KMSKeyID             string
	// PartSizeBytes is the multipart part size and threshold (default 8 MiB,
	// minimum 5 MiB); memory per upload of a body that is not a file is
	// about Concurrency+1 parts.
	PartSizeBytes int64
	// Concurrency is the number of parts uploaded in parallel (default 2).
	Concurrency int
	// MaxAttempts bounds tries per request, the first included (default 5).
	MaxAttempts int
	// ListPageSize is the MaxKeys of each ListObjectsV2 page (default 1000).
	ListPageSize int32
	// ReadTimeout is the idle limit of a connection (default
	// DefaultReadTimeout); it does not apply to an injected HTTPClient.
	ReadTimeout time.Duration
	// HTTPClient replaces the SDK's HTTP client (tests inject faults here).
	HTTPClient *http.Client
}

// LogValue keeps the secret out of logs: slog prints this instead.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("bucket", c.Bucket), slog.String("region", c.Region),
		slog.String("endpoint", c.Endpoint), slog.Bool("static_credentials", c.AccessKeyID != ""),
		slog.String("sse", c.ServerSideEncryption))
}

// String keeps the secret out of %v and %+v.
func (c Config) String() string { return c.LogValue().String() }

func (c *Config) setDefaults() {
	if c.PartSizeBytes == 0 {
		c.PartSizeBytes = DefaultPartSizeBytes
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.ListPageSize == 0 {
		c.ListPageSize = DefaultListPageSize
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("bucket is required"))
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		errs = append(errs, errors.New("access key id and secret access key must be set together (or both empty for the default credential chain)"))
	}
	switch c.ServerSideEncryption {
	case "", "AES256", "aws:kms":
	default:
		errs = append(errs, fmt.Errorf("server-side encryption %q: want AES256 or aws:kms", c.ServerSideEncryption))
	}
	if c.KMSKeyID != "" && c.ServerSideEncryption != "aws:kms" {
		errs = append(errs, errors.New("a KMS key id needs server-side encryption aws:kms"))
	}
	if c.PartSizeBytes < minPartSize {
		errs = append(errs, fmt.Errorf("part size %d bytes is below S3's minimum of 5 MiB", c.PartSizeBytes))
	}
	if c.Concurrency < 1 || c.MaxAttempts < 1 || c.ListPageSize < 1 || c.ListPageSize > 1000 {
		errs = append(errs, errors.New("concurrency and max attempts must be >= 1, list page size 1..1000"))
	}
	return errors.Join(errs...)
}

// Store is a storage.Store on one S3 bucket.
type Store struct {
	cfg    Config
	client *s3.Client
	tm     *transfermanager.Client
}

var _ storage.Store = (*Store)(nil)

// New validates cfg and builds the clients. It does not contact S3: call
// Ping to check reachability and credentials.
func New(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("s3 config: %w", err)
	}
	opts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(cfg.MaxAttempts)}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 config: load AWS defaults: %w", err)
	}
	if cfg.HTTPClient != nil {
		// Set after loading: config.WithHTTPClient fails when AWS_CA_BUNDLE
		// is set, and a caller's own client owns its TLS settings anyway.
		awsCfg.HTTPClient = cfg.HTTPClient
	} else if b, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
		awsCfg.HTTPClient = b.WithReadTimeout(cfg.ReadTimeout)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, errors.New("s3 config: region is required (s3_bucket_region or AWS_REGION)")
		}
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		// The SDK would print a warning per GetObject of a multipart object.
		o.DisableLogOutputChecksumValidationSkipped = true
		o.APIOptions = append(o.APIOptions, unsignedPayload)
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
	})
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = cfg.PartSizeBytes
		o.MultipartUploadThreshold = cfg.PartSizeBytes
		o.Concurrency = cfg.Concurrency
		o.FailTimeout = abortTimeout
	})
	return &Store{cfg: cfg, client: client, tm: tm}, nil
}

// Client is the underlying SDK client, for callers that need an S3 call
// the Store does not offer.
func (s *Store) Client() *s3.Client { return s.client }

// Location returns "s3://bucket/key".
func (s *Store) Location(key string) string { return "s3://" + s.cfg.Bucket + "/" + key }

// Ping sends HeadBucket: it proves the endpoint answers, the credentials
// are valid and the bucket exists. Write permission is first exercised by
// the first Put (a probe object could fire the bucket's notifications).
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err != nil {
		return s.wrap("head bucket", "", err, storage.ErrBucketNotFound)
	}
	return nil
}
