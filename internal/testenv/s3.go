package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const s3InstallHint = "run scripts/test-deps.sh (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"

// S3Server is a versitygw S3 gateway on loopback with a posix backend: a
// real S3 implementation (SigV4 checks, multipart, paging) whose objects are
// plain files at Dir/<bucket>/<key>, so tests can check what landed without
// going through the client under test.
type S3Server struct {
	// Endpoint is the base URL, e.g. "http://127.0.0.1:41234"; use path-style.
	Endpoint string
	// AccessKey and SecretKey are the root credentials the server accepts.
	AccessKey, SecretKey string
	// Region is the region the server signs for.
	Region string
	// Dir is the posix root: bucket directories live directly under it.
	Dir string

	buckets atomic.Int64
}

// StartS3 starts versitygw on a free loopback port and stops it (the whole
// process group) when the test ends. A missing binary fails the test with
// the install command.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	SkipShort(t, "an S3 server (versitygw)")
	bin, err := findVersitygw()
	if err != nil {
		t.Fatal(err)
	}
	s := &S3Server{AccessKey: "test", SecretKey: "testsecret", Region: "us-east-1", Dir: t.TempDir()}
	logPath := filepath.Join(t.TempDir(), "versitygw.log")
	// A free port can be taken between probing and binding: retry.
	for attempt := 0; ; attempt++ {
		err = s.launch(t, bin, logPath)
		if err == nil {
			return s
		}
		if attempt == 2 {
			t.Fatalf("start versitygw: %v\n%s", err, tailFile(logPath, 2000))
		}
	}
}

func (s *S3Server) launch(t testing.TB, bin, logPath string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "--port", addr, "--quiet", "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	s.Endpoint = "http://" + addr
	if err := waitHTTP(s.Endpoint, exited, 15*time.Second); err != nil {
		stop()
		return err
	}
	t.Cleanup(stop)
	return nil
}

// waitHTTP polls url until the server answers anything (an S3 error is an
// answer), the process exits, or the timeout passes.
func waitHTTP(url string, exited <-chan error, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited before answering: %v", err)
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not answer on %s within %v", url, timeout)
}

func findVersitygw() (string, error) {
	if p, ok := findGoTool("versitygw"); ok {
		return p, nil
	}
	return "", errors.New("versitygw not found in PATH or $(go env GOPATH)/bin: " + s3InstallHint)
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
