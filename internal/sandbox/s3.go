package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// VersitygwInstall is how to get the S3 server the tests and the benchmark
// run.
const VersitygwInstall = "run scripts/test-deps.sh (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"

// S3 is a versitygw S3 gateway on loopback with a posix backend: a real S3
// implementation (SigV4 checks, multipart, paging) whose objects are plain
// files at Dir/<bucket>/<key>. The tests (through internal/testenv) and
// `acode bench` run this one launcher.
type S3 struct {
	Endpoint             string // base URL, e.g. "http://127.0.0.1:41234"; use path-style
	AccessKey, SecretKey string // the root credentials the server accepts
	Region               string
	Dir                  string // the posix root: bucket directories live directly under it

	cmd    *exec.Cmd
	exited chan error
}

// StartS3 starts versitygw over dir on a free loopback port, its output
// appended to logPath, and returns once it answers HTTP. A port taken
// between probing and binding is retried.
func StartS3(dir, logPath, accessKey, secretKey, region string) (*S3, error) {
	bin, ok := FindGoTool("versitygw")
	if !ok {
		return nil, errors.New("versitygw not found in PATH or $(go env GOPATH)/bin: " + VersitygwInstall)
	}
	s := &S3{AccessKey: accessKey, SecretKey: secretKey, Region: region, Dir: dir}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.launch(bin, logPath); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func (s *S3) launch(bin, logPath string) error {
	port, err := FreePort()
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
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	s.Endpoint = "http://" + addr
	if err := WaitHTTP(s.Endpoint, s.exited, 15*time.Second); err != nil {
		s.Close()
		return fmt.Errorf("versitygw: %w", err)
	}
	return nil
}

// Pid is the server's process id.
func (s *S3) Pid() int { return s.cmd.Process.Pid }

// Close kills the server's process group and waits for it.
func (s *S3) Close() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// WaitHTTP polls url until the server answers anything (an S3 error is an
// answer), the process exits (exited receives its end), or the timeout
// passes.
func WaitHTTP(url string, exited <-chan error, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before answering: %v", err)
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("did not answer on %s within %v", url, timeout)
}
