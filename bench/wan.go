package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// WAN is a network profile between the measured tools and the source: a
// round-trip latency and one bandwidth shared by every connection, as a
// real link to a remote server is.
type WAN struct {
	// Latency is the round trip added to every connection (half each way).
	Latency time.Duration
	// BitsPerSec is the link's rate, shared by all connections together.
	BitsPerSec int64
}

func (w WAN) String() string {
	return fmt.Sprintf("%s round trip, %s shared", w.Latency, formatRate(w.BitsPerSec))
}

// ParseWAN reads "LATENCY,BANDWIDTH" such as "10ms,200mbit": a Go duration
// and a rate in bit, kbit, mbit or gbit per second (tc's units).
func ParseWAN(s string) (*WAN, error) {
	lat, bw, ok := strings.Cut(strings.TrimSpace(s), ",")
	if !ok {
		return nil, fmt.Errorf("--wan %q: want LATENCY,BANDWIDTH such as 10ms,200mbit", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(lat))
	if err != nil || d < 0 || d > 10*time.Second {
		return nil, fmt.Errorf("--wan %q: latency %q: want a duration such as 10ms (0 to 10s)", s, lat)
	}
	rate, err := parseRate(strings.TrimSpace(bw))
	if err != nil {
		return nil, fmt.Errorf("--wan %q: bandwidth %q: %w", s, bw, err)
	}
	return &WAN{Latency: d, BitsPerSec: rate}, nil
}

var rateUnits = []struct {
	suffix string
	mult   int64
}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}

func parseRate(s string) (int64, error) {
	low := strings.ToLower(s)
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(low, u.suffix); ok {
			n, err := strconv.ParseFloat(num, 64)
			if err != nil || n <= 0 {
				break
			}
			if bits := int64(n * float64(u.mult)); bits >= 64_000 && bits <= 100e9 {
				return bits, nil
			}
		}
	}
	return 0, errors.New("want a rate from 64kbit to 100gbit, such as 200mbit or 1gbit")
}

func formatRate(bits int64) string {
	for _, u := range rateUnits {
		if bits >= u.mult && bits%u.mult == 0 {
			return strconv.FormatInt(bits/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(bits, 10) + "bit"
}

// wanNamePrefix names the namespaces the benchmark creates, suffixed by its
// pid, so a run can remove what a killed run left (see removeStaleWANs).
const wanNamePrefix = "acode-bench-"

// wanLink is the network a --wan run's tools cross: they run in their own
// network namespace, joined to this one by a veth pair whose two ends are
// shaped by tbf (one queue per direction for all connections: the shared
// link), and reach the source through a toxiproxy on the veth's host end
// that adds the latency. The addresses are link-local and exist only on
// the veth, so nothing is routed to a real network.
type wanLink struct {
	ns      string // network namespace of the tools
	hostDev string // the veth's end in this namespace, once made
	hostIP  string // the veth's end in this namespace; the proxy listens here
	port    int    // the proxy's port
	toxi    *toxiproxy
	created bool // the namespace exists and must be removed
}

// startWAN sets the link up in front of upstream (host:port of the source).
// On error, whatever was made is removed.
func startWAN(ctx context.Context, w WAN, upstream, logPath string) (_ *wanLink, err error) {
	if err := wanAvailable(); err != nil {
		return nil, err
	}
	removeStaleWANs(ctx)
	pid := os.Getpid()
	l := &wanLink{ns: wanNamePrefix + strconv.Itoa(pid)}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	// A /30 in 169.254.0.0/16 picked by pid: two benchmarks at once get
	// different ones.
	third, fourth := 1+(pid>>6)%254, (pid%64)*4
	l.hostIP = fmt.Sprintf("169.254.%d.%d", third, fourth+1)
	nsIP := fmt.Sprintf("169.254.%d.%d", third, fourth+2)
	hostDev, nsDev := "acb"+strconv.Itoa(pid)+"h", "acb"+strconv.Itoa(pid)+"n"
	if err := ipCmd(ctx, "netns", "add", l.ns); err != nil {
		return nil, err
	}
	l.created = true
	// Both ends are made at once, the peer already inside the namespace:
	// removing the namespace removes the pair and its qdiscs.
	for _, args := range [][]string{
		{"link", "add", hostDev, "type", "veth", "peer", "name", nsDev, "netns", l.ns},
		{"addr", "add", l.hostIP + "/30", "dev", hostDev},
		{"link", "set", hostDev, "up"},
		{"-n", l.ns, "addr", "add", nsIP + "/30", "dev", nsDev},
		{"-n", l.ns, "link", "set", nsDev, "up"},
		{"-n", l.ns, "link", "set", "lo", "up"},
	} {
		if err := ipCmd(ctx, args...); err != nil {
			return nil, err
		}
		l.hostDev = hostDev
	}
	if err := shape(ctx, "", hostDev, w.BitsPerSec); err != nil {
		return nil, err
	}
	if err := shape(ctx, l.ns, nsDev, w.BitsPerSec); err != nil {
		return nil, err
	}
	if l.toxi, err = startToxiproxy(ctx, logPath); err != nil {
		return nil, err
	}
	if l.port, err = l.toxi.proxy(ctx, "source", l.hostIP, upstream); err != nil {
		return nil, err
	}
	half := int(w.Latency.Milliseconds() / 2)
	if half > 0 {
		for _, stream := range []string{"downstream", "upstream"} {
			if err := l.toxi.latency(ctx, "source", stream, half); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

// shape puts a tbf on dev's egress: a burst of 10 ms at the rate (at least
// 64 KiB, so a segmentation-offloaded packet fits) and a queue of 50 ms.
func shape(ctx context.Context, ns, dev string, bits int64) error {
	burst := max(64<<10, bits/8/100)
	args := []string{"qdisc", "add", "dev", dev, "root", "tbf", "rate", strconv.FormatInt(bits, 10) + "bit",
		"burst", strconv.FormatInt(burst, 10), "latency", "50ms"}
	name := "tc"
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("tc %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// command runs name with args inside the link's namespace (ip netns exec
// executes it in place, so the rusage measured is the tool's own).
func (l *wanLink) command(name string, args []string) (string, []string) {
	return "ip", append([]string{"netns", "exec", l.ns, name}, args...)
}

// Close stops the proxy and removes the namespace with the veth pair and
// its qdiscs. It uses its own context: it also runs after a cancel.
func (l *wanLink) Close() {
	if l.toxi != nil {
		l.toxi.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if l.hostDev != "" {
		// Removing the namespace removes the pair too, but later, in the
		// kernel's own time: deleting it first leaves nothing behind now.
		_ = ipCmd(ctx, "link", "del", l.hostDev)
		l.hostDev = ""
	}
	if l.created {
		_ = ipCmd(ctx, "netns", "del", l.ns)
		l.created = false
	}
}

// wanAvailable says why a WAN link cannot be made here.
func wanAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("--wan needs root (it creates a network namespace and a veth pair)")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("--wan needs %s: install it with: apt-get install iproute2", tool)
		}
	}
	return nil
}

// removeStaleWANs removes the namespaces of benchmarks no longer running
// (killed before their cleanup ran): with them go their veth pairs.
func removeStaleWANs(ctx context.Context) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pid, ok := strings.CutPrefix(f[0], wanNamePrefix)
		if !ok {
			continue
		}
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
			_ = ipCmd(ctx, "netns", "del", f[0])
		}
	}
}

func ipCmd(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
