package testenv

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/acode-dev/acode/internal/sandbox"
)

// Toxiproxy is a toxiproxy-server owned by a test (sandbox.Toxiproxy): a
// TCP proxy whose faults (latency, resets, timeouts) are switched on and
// off through its REST API, so tests see the errors a flaky network really
// produces.
type Toxiproxy struct{ *sandbox.Toxiproxy }

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
	logPath := filepath.Join(t.TempDir(), "toxiproxy.log")
	tp, err := sandbox.StartToxiproxy(logPath)
	if err != nil {
		t.Fatalf("start toxiproxy: %v\n%s", err, tailFile(logPath, 2000))
	}
	t.Cleanup(tp.Close)
	return &Toxiproxy{tp}
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
		err = tp.Call(context.Background(), http.MethodPost, "/proxies", map[string]any{
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
	err := p.tp.Call(context.Background(), http.MethodPost, "/proxies/"+p.Name+"/toxics", map[string]any{
		"name": name, "type": kind, "stream": stream, "toxicity": 1.0, "attributes": attrs,
	})
	if err != nil {
		t.Fatalf("add toxic %s (%s) to %s: %v", name, kind, p.Name, err)
	}
}

// RemoveToxic removes the named toxic.
func (p *ToxiProxy) RemoveToxic(t testing.TB, name string) {
	t.Helper()
	if err := p.tp.Call(context.Background(), http.MethodDelete, "/proxies/"+p.Name+"/toxics/"+name, nil); err != nil {
		t.Fatalf("remove toxic %s from %s: %v", name, p.Name, err)
	}
}

// SetEnabled opens or closes the proxy; disabling it cuts every open
// connection, as a network partition would.
func (p *ToxiProxy) SetEnabled(t testing.TB, enabled bool) {
	t.Helper()
	if err := p.tp.Call(context.Background(), http.MethodPost, "/proxies/"+p.Name, map[string]any{"enabled": enabled}); err != nil {
		t.Fatalf("set proxy %s enabled=%v: %v", p.Name, enabled, err)
	}
}
