package bench

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acode-dev/acode/internal/sandbox"
)

// s3Server is a versitygw (posix backend) on loopback with one bucket.
type s3Server struct {
	endpoint, region, bucket string
	accessKey, secretKey     string
	cmd                      *exec.Cmd
	exited                   chan error
}

func startS3(ctx context.Context, dir string) (*s3Server, error) {
	bin, err := findVersitygw()
	if err != nil {
		return nil, err
	}
	port, err := sandbox.FreePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s := &s3Server{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port), region: "us-east-1", bucket: "bench",
		accessKey: "bench", secretKey: "bench-secret", exited: make(chan error, 1),
	}
	s.cmd = exec.Command(bin, "--access", s.accessKey, "--secret", s.secretKey, "--region", s.region,
		"--port", "127.0.0.1:"+strconv.Itoa(port), "--quiet", "posix", data)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	if err := s.waitReady(10 * time.Second); err != nil {
		s.Close()
		return nil, err
	}
	client := s3.New(s3.Options{
		Region: s.region, BaseEndpoint: aws.String(s.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.accessKey, s.secretKey, ""),
	})
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	var owned *s3types.BucketAlreadyOwnedByYou // a --dir kept from an earlier run
	if err != nil && !errors.As(err, &owned) {
		s.Close()
		return nil, fmt.Errorf("create bench bucket: %w", err)
	}
	return s, nil
}

func (s *s3Server) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("versitygw exited before answering: %v", err)
		default:
		}
		if resp, err := client.Get(s.endpoint); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not answer on %s within %v", s.endpoint, timeout)
}

// Close kills the server's process group and waits for it.
func (s *s3Server) Close() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

func findVersitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("versitygw not found in PATH or $(go env GOPATH)/bin: install it with: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (scripts/test-deps.sh does it)")
}

// cpu is the S3 server's CPU time so far: on the benchmark's machine it
// shares the cores with acode and MySQL.
func (s *s3Server) cpu() (time.Duration, bool) {
	return procCPU(strconv.Itoa(s.cmd.Process.Pid))
}

// timed wraps run to add the S3 server's CPU time during it.
func (s *s3Server) timed(run func() (Measurement, error)) func() (Measurement, error) {
	return func() (Measurement, error) {
		m, cpu, err := cpuDuring(s.cpu, run)
		m.S3CPUSeconds = cpu
		return m, err
	}
}
