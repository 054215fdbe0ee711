package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acode-dev/acode/internal/sandbox"
)

// S3Server is a versitygw S3 gateway on loopback with a posix backend
// (sandbox.S3): a real S3 implementation (SigV4 checks, multipart, paging)
// whose objects are plain files at Dir/<bucket>/<key>, so tests can check
// what landed without going through the client under test.
type S3Server struct {
	*sandbox.S3
	buckets atomic.Int64
}

// StartS3 starts versitygw on a free loopback port and stops it (the whole
// process group) when the test ends. A missing binary fails the test with
// the install command.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	return StartS3On(t, t.TempDir())
}

// StartS3On is StartS3 with root as the server's posix root: a bucket is
// the directory root/<bucket>, so a test can lay a bucket over files it
// reads directly (a project's local destination directory).
func StartS3On(t testing.TB, root string) *S3Server {
	t.Helper()
	SkipShort(t, "an S3 server (versitygw)")
	logPath := filepath.Join(t.TempDir(), "versitygw.log")
	s, err := sandbox.StartS3(root, logPath, "test", "testsecret", "us-east-1")
	if err != nil {
		t.Fatalf("start versitygw: %v\n%s", err, tailFile(logPath, 2000))
	}
	t.Cleanup(s.Close)
	return &S3Server{S3: s}
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// Client returns an SDK client for the server with the root credentials:
// the independent client tests use to set up and check state.
func (s *S3Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates the bucket name through the S3 API.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// NewBucket creates a bucket with a fresh name and returns the name, so
// parallel tests on one server never share state.
func (s *S3Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("bucket-%03d", s.buckets.Add(1))
	s.CreateBucket(t, name)
	return name
}

// ObjectPath is where the posix backend keeps bucket/key on disk.
func (s *S3Server) ObjectPath(bucket, key string) string {
	return filepath.Join(s.Dir, bucket, filepath.FromSlash(key))
}
