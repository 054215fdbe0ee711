package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/acode-dev/acode/internal/sandbox"
)

// toxiproxy is a toxiproxy-server the benchmark owns (sandbox.Toxiproxy):
// the latency of a --wan link (its bandwidth toxic limits each connection
// on its own, so the shared bandwidth is tc's).
type toxiproxy struct{ *sandbox.Toxiproxy }

func startToxiproxy(_ context.Context, logPath string) (*toxiproxy, error) {
	tp, err := sandbox.StartToxiproxy(logPath)
	if err != nil {
		return nil, fmt.Errorf("%w (log %s)", err, logPath)
	}
	return &toxiproxy{tp}, nil
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
		if err = t.Call(ctx, http.MethodPost, "/proxies", map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true}); err == nil {
			return port, nil
		}
	}
	return 0, fmt.Errorf("toxiproxy proxy to %s: %w", upstream, err)
}

// latency delays every chunk on stream (upstream or downstream) by ms.
func (t *toxiproxy) latency(ctx context.Context, proxy, stream string, ms int) error {
	err := t.Call(ctx, http.MethodPost, "/proxies/"+proxy+"/toxics", map[string]any{
		"name": "latency_" + stream, "type": "latency", "stream": stream, "toxicity": 1.0,
		"attributes": map[string]any{"latency": ms, "jitter": 0},
	})
	if err != nil {
		return fmt.Errorf("toxiproxy latency %s: %w", stream, err)
	}
	return nil
}
