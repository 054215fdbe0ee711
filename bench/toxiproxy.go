package bench

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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/acode-dev/acode/internal/sandbox"
)

// toxiproxy is a toxiproxy-server the benchmark owns: the latency of a
// --wan link (its bandwidth toxic limits each connection on its own, so the
// shared bandwidth is tc's).
type toxiproxy struct {
	api    string
	client *http.Client
	cmd    *exec.Cmd
	exited chan error
}

func startToxiproxy(ctx context.Context, logPath string) (*toxiproxy, error) {
	bin, ok := sandbox.FindGoTool("toxiproxy-server")
	if !ok {
		return nil, errors.New("toxiproxy-server not found in PATH or $(go env GOPATH)/bin: install it with: " +
			"go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0, then rename $(go env GOPATH)/bin/server to toxiproxy-server (scripts/test-deps.sh does it)")
	}
	port, err := sandbox.FreePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	t := &toxiproxy{api: "http://127.0.0.1:" + strconv.Itoa(port), client: &http.Client{Timeout: 10 * time.Second}, exited: make(chan error, 1)}
	t.cmd = exec.Command(bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	t.cmd.Stdout, t.cmd.Stderr = logf, logf
	t.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := t.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	go func() { t.exited <- t.cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := t.call(ctx, http.MethodGet, "/version", nil); err == nil {
			return t, nil
		}
		select {
		case err := <-t.exited:
			t.exited <- err
			t.Close()
			return nil, fmt.Errorf("toxiproxy exited before answering: %v (log %s)", err, logPath)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Close()
			return nil, fmt.Errorf("toxiproxy did not answer on %s within 15s (log %s)", t.api, logPath)
		}
	}
}

// proxy creates the proxy name listening on host (a free port) in front of
// upstream, and returns the port.
func (t *toxiproxy) proxy(ctx context.Context, name, host, upstream string) (int, error) {
	var err error
	for range 3 { // a free port may be taken between asking and listening
		var port int
		if port, err = sandbox.FreePort(); err != nil {
			return 0, err
		}
		listen := host + ":" + strconv.Itoa(port)
		if err = t.call(ctx, http.MethodPost, "/proxies", map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true}); err == nil {
			return port, nil
		}
	}
	return 0, fmt.Errorf("toxiproxy proxy to %s: %w", upstream, err)
}

// latency delays every chunk on stream (upstream or downstream) by ms.
func (t *toxiproxy) latency(ctx context.Context, proxy, stream string, ms int) error {
	err := t.call(ctx, http.MethodPost, "/proxies/"+proxy+"/toxics", map[string]any{
		"name": "latency_" + stream, "type": "latency", "stream": stream, "toxicity": 1.0,
		"attributes": map[string]any{"latency": ms, "jitter": 0},
	})
	if err != nil {
		return fmt.Errorf("toxiproxy latency %s: %w", stream, err)
	}
	return nil
}

// Close kills the server's process group and waits for it.
func (t *toxiproxy) Close() {
	_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
	err := <-t.exited
	t.exited <- err
}

func (t *toxiproxy) call(ctx context.Context, method, path string, body any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.api+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
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
