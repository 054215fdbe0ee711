package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ToxiproxyInstall is how to get the fault-injecting proxy the tests and
// `acode bench --wan` run.
const ToxiproxyInstall = "run scripts/test-deps.sh (go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0, " +
	"then rename $(go env GOPATH)/bin/server to toxiproxy-server)"

// Toxiproxy is a toxiproxy-server on a free loopback port: a TCP proxy
// whose faults (latency, resets, timeouts) are switched on and off through
// its REST API. The tests (through internal/testenv) and the benchmark run
// this one launcher.
type Toxiproxy struct {
	API    string // http://127.0.0.1:port
	client *http.Client
	cmd    *exec.Cmd
	exited chan error
}

// StartToxiproxy starts toxiproxy-server, its output appended to logPath,
// and returns once its API answers. A port taken between probing and
// binding is retried.
func StartToxiproxy(logPath string) (*Toxiproxy, error) {
	bin, err := FindToxiproxy()
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 3; attempt++ {
		var tp *Toxiproxy
		if tp, err = launchToxiproxy(bin, logPath); err == nil {
			return tp, nil
		}
	}
	return nil, err
}

func launchToxiproxy(bin, logPath string) (*Toxiproxy, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", bin, err)
	}
	tp := &Toxiproxy{API: "http://127.0.0.1:" + strconv.Itoa(port), client: &http.Client{Timeout: 10 * time.Second},
		cmd: cmd, exited: make(chan error, 1)}
	go func() { tp.exited <- cmd.Wait() }()
	if err := WaitHTTP(tp.API+"/version", tp.exited, 15*time.Second); err != nil {
		tp.Close()
		return nil, fmt.Errorf("toxiproxy: %w", err)
	}
	return tp, nil
}

// Close kills the server's process group and waits for it; closing twice
// is fine.
func (tp *Toxiproxy) Close() {
	_ = syscall.Kill(-tp.cmd.Process.Pid, syscall.SIGKILL)
	err := <-tp.exited
	tp.exited <- err
}

// Call sends body as JSON to the API and fails on a non-2xx answer, with
// the server's message.
func (tp *Toxiproxy) Call(ctx context.Context, method, path string, body any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, tp.API+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := tp.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// FindToxiproxy looks for toxiproxy-server in PATH and the Go bin dirs. `go
// install .../cmd/server` names the binary "server"; that name is accepted
// when the binary says it is toxiproxy.
func FindToxiproxy() (string, error) {
	if p, ok := FindGoTool("toxiproxy-server"); ok {
		return p, nil
	}
	for _, d := range GoBinDirs() {
		p := filepath.Join(d, "server")
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		out, _ := exec.Command(p, "-version").CombinedOutput()
		if bytes.Contains(out, []byte("toxiproxy")) {
			return p, nil
		}
	}
	return "", errors.New("toxiproxy-server not found in PATH or $(go env GOPATH)/bin: " + ToxiproxyInstall)
}
