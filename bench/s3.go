package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acode-dev/acode/internal/sandbox"
)

// s3Server is a versitygw (posix backend, sandbox.S3) on loopback with
// one bucket.
type s3Server struct {
	*sandbox.S3
	bucket string
	client *s3.Client
}

func startS3(ctx context.Context, dir string) (*s3Server, error) {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	srv, err := sandbox.StartS3(data, filepath.Join(dir, "versitygw.log"), "bench", "bench-secret", "us-east-1")
	if err != nil {
		return nil, err
	}
	s := &s3Server{S3: srv, bucket: "bench"}
	client := s3.New(s3.Options{
		Region: s.Region, BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	var owned *s3types.BucketAlreadyOwnedByYou // a --dir kept from an earlier run
	if err != nil && !errors.As(err, &owned) {
		s.Close()
		return nil, fmt.Errorf("create bench bucket: %w", err)
	}
	s.client = client
	return s, nil
}

// empty deletes every object of the bench bucket, so a variant's output
// (4.6 GB of Parquet at 50M rows) does not stay on the disk beside the
// next variant's and the S3 server's copy of its parts.
func (s *s3Server) empty(ctx context.Context) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list bench bucket: %w", err)
		}
		for _, o := range page.Contents {
			if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: o.Key}); err != nil {
				return fmt.Errorf("delete %s from the bench bucket: %w", aws.ToString(o.Key), err)
			}
		}
	}
	return nil
}

// cpu is the S3 server's CPU time so far: on the benchmark's machine it
// shares the cores with acode and MySQL.
func (s *s3Server) cpu() (time.Duration, bool) {
	return procCPU(strconv.Itoa(s.Pid()))
}

// timed wraps run to add the S3 server's CPU time during it.
func (s *s3Server) timed(run func() (Measurement, error)) func() (Measurement, error) {
	return func() (Measurement, error) {
		m, cpu, err := cpuDuring(s.cpu, run)
		m.S3CPUSeconds = cpu
		return m, err
	}
}
