package s3_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/s3"
	"github.com/acode-dev/acode/internal/storage/storagetest"
	"github.com/acode-dev/acode/internal/testenv"
)

func config(srv *testenv.S3Server, bucket string) s3.Config {
	return s3.Config{
		Bucket:          bucket,
		Region:          srv.Region,
		Endpoint:        srv.Endpoint,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
	}
}

func newStore(t *testing.T, cfg s3.Config) *s3.Store {
	t.Helper()
	s, err := s3.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("s3.New: %v", err)
	}
	return s
}

func TestS3Store_Contract(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		bucket := srv.NewBucket(t)
		cfg := config(srv, bucket)
		cfg.PartSizeBytes = 5 << 20 // several parts for the suite's 20 MiB objects
		cfg.ListPageSize = 100      // many pages for the suite's 1005 keys
		t.Cleanup(func() { assertNoPendingUploads(t, srv, bucket) })
		return newStore(t, cfg)
	})
}

// assertNoPendingUploads fails if a multipart upload was left open: an
// aborted upload must be aborted, not abandoned with its parts stored.
func assertNoPendingUploads(t *testing.T, srv *testenv.S3Server, bucket string) {
	t.Helper()
	// Runs from t.Cleanup too, where t.Context is already cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := srv.Client(t).ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Errorf("ListMultipartUploads(%s): %v", bucket, err)
		return
	}
	for _, u := range out.Uploads {
		t.Errorf("multipart upload left open in %s: key %s id %s", bucket, aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
}

func TestS3Store_BigUploadIsMultipartAndByteEqual(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	s := newStore(t, config(srv, bucket)) // default 8 MiB parts
	data := bytes.Repeat([]byte("0123456789abcdef"), 40<<20/16)
	copy(data[len(data)-5:], "tail!")
	key := "bronze/acode/cog_dt_ingestion=2025-08-07/big.parquet"
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put 40 MiB: %v", err)
	}
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-5") {
		t.Errorf("ETag = %q; want a multipart ETag of 5 parts (\"...-5\")", info.ETag)
	}
	// Independent check: the gateway's own file, not our client.
	onDisk, err := os.ReadFile(srv.ObjectPath(bucket, key))
	if err != nil {
		t.Fatalf("object file: %v", err)
	}
	if !bytes.Equal(onDisk, data) {
		t.Fatalf("object file differs: %d bytes, want %d", len(onDisk), len(data))
	}
	assertNoPendingUploads(t, srv, bucket)
}

func TestS3Store_PutLandsAsPlainFileOnServer(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	s := newStore(t, config(srv, bucket))
	for _, key := range []string{"a/b/c.txt", "with space/and+plus=&.parquet", "utf8/çãé.bin"} {
		want := []byte("content of " + key)
		if err := s.Put(t.Context(), key, bytes.NewReader(want), -1); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		got, err := os.ReadFile(srv.ObjectPath(bucket, key))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("file for %q = %q, %v; want %q", key, got, err, want)
		}
		if err := s.Copy(t.Context(), key, "copy/"+key); err != nil {
			t.Errorf("Copy(%q): %v", key, err)
		}
	}
	if loc := s.Location("a/b"); loc != "s3://"+bucket+"/a/b" {
		t.Errorf("Location = %q", loc)
	}
}

func TestS3Store_WrongSecretIsAccessDenied(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	cfg := config(srv, bucket)
	cfg.SecretAccessKey = "wrong-secret-Zq8hunter2"
	s := newStore(t, cfg)
	ctx := t.Context()
	_, statErr := s.Stat(ctx, "k")
	_, openErr := s.Open(ctx, "k")
	errs := map[string]error{
		"Ping": s.Ping(ctx),
		"Put":  s.Put(ctx, "dir/k", strings.NewReader("x"), 1),
		"Stat": statErr,
		"Open": openErr,
		"List": s.List(ctx, "", func(storage.ObjectInfo) error { return nil }),
	}
	for op, err := range errs {
		if !errors.Is(err, storage.ErrAccessDenied) {
			t.Errorf("%s with a wrong secret = %v; want ErrAccessDenied", op, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, cfg.SecretAccessKey) || strings.Contains(msg, "hunter2") {
			t.Errorf("%s error leaks the secret: %s", op, msg)
		}
		if !strings.Contains(err.Error(), bucket) {
			t.Errorf("%s error does not name the bucket: %v", op, err)
		}
	}
	if err := errs["Put"]; err != nil && !strings.Contains(err.Error(), "dir/k") {
		t.Errorf("Put error does not name the key: %v", err)
	}
	if strings.Contains(cfg.String(), cfg.SecretAccessKey) {
		t.Errorf("Config.String leaks the secret: %s", cfg)
	}
}

func TestS3Store_MissingBucketIsErrBucketNotFound(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	s := newStore(t, config(srv, "no-such-bucket"))
	ctx := t.Context()
	errs := map[string]error{
		"Ping": s.Ping(ctx),
		"Put":  s.Put(ctx, "k", strings.NewReader("x"), 1),
		"List": s.List(ctx, "", func(storage.ObjectInfo) error { return nil }),
	}
	for op, err := range errs {
		if !errors.Is(err, storage.ErrBucketNotFound) || !strings.Contains(err.Error(), "no-such-bucket") {
			t.Errorf("%s on a missing bucket = %v; want ErrBucketNotFound naming the bucket", op, err)
		}
		if strings.Contains(err.Error(), srv.SecretKey) {
			t.Errorf("%s error leaks the secret: %v", op, err)
		}
	}
}

func TestS3Config_Invalid(t *testing.T) {
	t.Parallel()
	cases := map[string]s3.Config{
		"no bucket":      {Region: "us-east-1"},
		"half creds":     {Bucket: "b", Region: "us-east-1", AccessKeyID: "AKIA"},
		"bad sse":        {Bucket: "b", Region: "us-east-1", ServerSideEncryption: "rot13"},
		"kms key no kms": {Bucket: "b", Region: "us-east-1", ServerSideEncryption: "AES256", KMSKeyID: "k"},
		"tiny part size": {Bucket: "b", Region: "us-east-1", PartSizeBytes: 1 << 20},
		"huge page size": {Bucket: "b", Region: "us-east-1", ListPageSize: 5000},
	}
	for name, cfg := range cases {
		if _, err := s3.New(t.Context(), cfg); err == nil {
			t.Errorf("%s: New accepted %v", name, cfg)
		}
	}
	ok := s3.Config{Bucket: "b", Region: "sa-east-1", ServerSideEncryption: "aws:kms", KMSKeyID: "arn:aws:kms:k"}
	if _, err := s3.New(t.Context(), ok); err != nil {
		t.Errorf("New(valid SSE-KMS config) = %v", err)
	}
}

func TestS3Store_CleanIncompleteAbortsAbandonedUploads(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	s := newStore(t, config(srv, bucket))
	// A writer that died after starting a multipart upload.
	_, err := srv.Client(t).CreateMultipartUpload(t.Context(), &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String("day=1/part.parquet"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.CleanIncomplete(t.Context(), "day=1/", time.Hour); err != nil || n != 0 {
		t.Fatalf("CleanIncomplete(1h) = %d, %v; want the young upload left alone", n, err)
	}
	time.Sleep(1100 * time.Millisecond) // S3 times have one-second resolution
	if n, err := s.CleanIncomplete(t.Context(), "day=1/", time.Millisecond); err != nil || n != 1 {
		t.Fatalf("CleanIncomplete = %d, %v; want 1 aborted", n, err)
	}
	assertNoPendingUploads(t, srv, bucket)
}

func wantOnDisk(t *testing.T, srv *testenv.S3Server, bucket, key string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(srv.ObjectPath(bucket, key))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("object file %s/%s = %d bytes, %v; want %d bytes", bucket, key, len(got), err, len(want))
	}
}
