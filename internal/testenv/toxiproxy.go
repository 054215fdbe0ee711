package testenv

import (
	"bytes"
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
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/sandbox"
)

const toxiproxyInstallHint = "run scripts/test-deps.sh (go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0, " +
	"then rename $(go env GOPATH)/bin/server to toxiproxy-server)"

// Toxiproxy is a toxiproxy-server owned by a test: a TCP proxy whose faults
// (latency, resets, timeouts) are switched on and off through its REST API,
// so tests see the errors a flaky network really produces.
type Toxiproxy struct {
	API    string // http://127.0.0.1:port
	client *http.Client
}

// ToxiProxy is one proxy: clients connect to Host:Port and reach Upstream
// through whatever toxics are active.
type ToxiProxy struct {
	Name     string
	Host     string
	Port     int
	Upstream string
	tp       *Toxiproxy
}

// StartToxiproxy starts toxiproxy-server on a free loopback port and kills it
// when the test ends. A missing binary fails the test with the install
// command.
func StartToxiproxy(t testing.TB) *Toxiproxy {
	t.Helper()
	SkipShort(t, "toxiproxy")
	bin, err := findToxiproxy()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "toxiproxy.log")
	for attempt := 0; ; attempt++ {
		tp, err := launchToxiproxy(t, bin, logPath)
		if err == nil {
			return tp
		}
		if attempt == 2 {
			t.Fatalf("start toxiproxy: %v\n%s", err, tailFile(logPath, 2000))
		}
	}
}

func launchToxiproxy(t testing.TB, bin, logPath string) (*Toxiproxy, error) {
	port, err := freePort()
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
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	tp := &Toxiproxy{API: "http://127.0.0.1:" + strconv.Itoa(port), client: &http.Client{Timeout: 10 * time.Second}}
	if err := sandbox.WaitHTTP(tp.API+"/version", exited, 15*time.Second); err != nil {
		stop()
		return nil, err
	}
	t.Cleanup(stop)
	return tp, nil
}

// Proxy creates an enabled proxy named name on a free loopback port in front
// of upstream (host:port).
func (tp *Toxiproxy) Proxy(t testing.TB, name, upstream string) *ToxiProxy {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		listen := "127.0.0.1:" + strconv.Itoa(port)
		err = tp.call(http.MethodPost, "/proxies", map[string]any{
			"name": name, "listen": listen, "upstream": upstream, "enabled": true,
		})
		if err == nil {
			return &ToxiProxy{Name: name, Host: "127.0.0.1", Port: port, Upstream: upstream, tp: tp}
		}
		if attempt == 2 {
			t.Fatalf("create toxiproxy proxy %s -> %s: %v", name, upstream, err)
		}
	}
}

// Addr is host:port of the proxy's listening side.
func (p *ToxiProxy) Addr() string { return p.Host + ":" + strconv.Itoa(p.Port) }

// AddToxic adds a toxic of kind (latency, timeout, reset_peer, limit_data,
// bandwidth, slow_close, slicer) on stream (upstream or downstream) with its
// attributes, e.g. {"latency": 2000} or {"timeout": 0}.
func (p *ToxiProxy) AddToxic(t testing.TB, name, kind, stream string, attrs map[string]any) {
	t.Helper()
	err := p.tp.call(http.MethodPost, "/proxies/"+p.Name+"/toxics", map[string]any{
		"name": name, "type": kind, "stream": stream, "toxicity": 1.0, "attributes": attrs,
	})
	if err != nil {
		t.Fatalf("add toxic %s (%s) to %s: %v", name, kind, p.Name, err)
	}
}

// RemoveToxic removes the named toxic.
func (p *ToxiProxy) RemoveToxic(t testing.TB, name string) {
	t.Helper()
	if err := p.tp.call(http.MethodDelete, "/proxies/"+p.Name+"/toxics/"+name, nil); err != nil {
		t.Fatalf("remove toxic %s from %s: %v", name, p.Name, err)
	}
}

// SetEnabled opens or closes the proxy; disabling it cuts every open
// connection, as a network partition would.
func (p *ToxiProxy) SetEnabled(t testing.TB, enabled bool) {
	t.Helper()
	if err := p.tp.call(http.MethodPost, "/proxies/"+p.Name, map[string]any{"enabled": enabled}); err != nil {
		t.Fatalf("set proxy %s enabled=%v: %v", p.Name, enabled, err)
	}
}

func (tp *Toxiproxy) call(method, path string, body any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, tp.API+path, rd)
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

// findToxiproxy looks for toxiproxy-server in PATH and the Go bin dirs. `go
// install .../cmd/server` names the binary "server"; that name is accepted
// when the binary says it is toxiproxy.
func findToxiproxy() (string, error) {
	if p, ok := sandbox.FindGoTool("toxiproxy-server"); ok {
		return p, nil
	}
	for _, d := range sandbox.GoBinDirs() {
		p := filepath.Join(d, "server")
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		out, _ := exec.Command(p, "-version").CombinedOutput()
		if bytes.Contains(out, []byte("toxiproxy")) {
			return p, nil
		}
	}
	return "", errors.New("toxiproxy-server not found in PATH or $(go env GOPATH)/bin: " + toxiproxyInstallHint)
}
