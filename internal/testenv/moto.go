package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/sandbox"
)

// StartLifecycleS3 starts moto's S3 server (moto_server, Apache-2.0) on a
// free loopback port, for what versitygw v1.8.0 does not implement: its
// router answers NotImplemented to every bucket lifecycle call, whatever
// the backend. moto keeps buckets in memory (Dir is empty: there are no
// files to look at) and does not check signatures; it stores and returns
// lifecycle configurations as S3 does. The server and its process group
// are stopped when the test ends; a missing moto_server fails the test.
func StartLifecycleS3(t testing.TB) *S3Server {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatal(errors.New("moto_server not found in PATH: install Python's moto with its server extra (moto[server])"))
	}
	s := &S3Server{S3: &sandbox.S3{AccessKey: "test", SecretKey: "testsecret", Region: "us-east-1"}}
	logPath := filepath.Join(t.TempDir(), "moto.log")
	for attempt := 0; ; attempt++ {
		err = s.launchMoto(t, bin, logPath)
		if err == nil {
			return s
		}
		if attempt == 2 {
			t.Fatalf("start moto_server: %v\n%s", err, tailFile(logPath, 2000))
		}
	}
}

func (s *S3Server) launchMoto(t testing.TB, bin, logPath string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
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
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	if err := sandbox.WaitHTTP(s.Endpoint, exited, 30*time.Second); err != nil {
		stop()
		return err
	}
	t.Cleanup(stop)
	return nil
}
