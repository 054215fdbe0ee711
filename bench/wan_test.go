package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

func TestParseWAN(t *testing.T) {
	t.Parallel()
	w, err := ParseWAN("10ms,200mbit")
	if err != nil || w.Latency != 10*time.Millisecond || w.BitsPerSec != 200_000_000 {
		t.Fatalf("ParseWAN(10ms,200mbit) = %+v, %v", w, err)
	}
	if got := w.String(); got != "10ms round trip, 200mbit shared" {
		t.Errorf("String() = %q", got)
	}
	if w, err := ParseWAN(" 0s , 1.5gbit "); err != nil || w.BitsPerSec != 1_500_000_000 {
		t.Errorf("ParseWAN(0s,1.5gbit) = %+v, %v", w, err)
	}
	for _, bad := range []string{"10ms", "10,200mbit", "10ms,200", "10ms,200mb", "10ms,-1mbit", "10ms,1bit", "-1ms,1mbit"} {
		if _, err := ParseWAN(bad); err == nil || !strings.Contains(err.Error(), "--wan") {
			t.Errorf("ParseWAN(%q) = %v, want an error naming --wan", bad, err)
		}
	}
}

// skipWithoutWAN skips where a namespace and veth pair cannot be made.
func skipWithoutWAN(t *testing.T) {
	t.Helper()
	testenv.SkipShort(t, "a network namespace and toxiproxy")
	if err := wanAvailable(); err != nil {
		t.Skipf("no WAN link here: %v", err)
	}
}

// TestWAN_ConnectionsShareOneLink sends 4 MB to each of two connections
// from inside the link's namespace at once: through one 16 Mbit/s link the
// 64 Mbit take at least 4 s; with a limit per connection they would take 2.
// The round trip is at least the latency asked. Afterwards nothing of the
// link is left.
func TestWAN_ConnectionsShareOneLink(t *testing.T) {
	skipWithoutWAN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const perConn = 4 << 20
	go serveBytes(ln, perConn)
	link, err := startWAN(ctx, WAN{Latency: 40 * time.Millisecond, BitsPerSec: 16_000_000}, ln.Addr().String(), t.TempDir()+"/toxiproxy.log")
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			link.Close()
		}
	}()
	addr := net.JoinHostPort(link.hostIP, strconv.Itoa(link.port))
	// The client is this test's binary run inside the namespace.
	start := time.Now()
	var wg sync.WaitGroup
	results := make([]string, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name, args := link.command(os.Args[0], []string{"-test.run=^TestWANHelperClient$"})
			cmd := exec.CommandContext(ctx, name, args...)
			cmd.Env = append(os.Environ(), "ACODE_WAN_HELPER_ADDR="+addr)
			out, err := cmd.CombinedOutput()
			results[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil || !strings.Contains(results[i], "received "+strconv.Itoa(perConn)) {
			t.Fatalf("client %d: %v\n%s", i, err, results[i])
		}
	}
	if elapsed < 4*time.Second {
		t.Errorf("2 x %d bytes crossed a 16 Mbit/s link in %v: the bandwidth is not shared", perConn, elapsed)
	}
	for i, out := range results {
		rtt := helperRTT(t, out)
		if rtt < 40*time.Millisecond {
			t.Errorf("client %d: round trip %v, want at least 40ms", i, rtt)
		}
	}
	ns := link.ns
	link.Close()
	closed = true
	list, err := exec.Command("ip", "netns", "list").Output()
	if err != nil || strings.Contains(string(list), ns) {
		t.Errorf("namespace %s left after Close: %v\n%s", ns, err, list)
	}
	if links, _ := exec.Command("ip", "-o", "link", "show").Output(); strings.Contains(string(links), "acb"+strconv.Itoa(os.Getpid())) {
		t.Errorf("veth left after Close:\n%s", links)
	}
}

// serveBytes answers each connection: it reads one byte, writes it back
// (the client times the round trip), then sends n bytes and closes.
func serveBytes(ln net.Listener, n int) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			b := make([]byte, 1)
			if _, err := io.ReadFull(c, b); err != nil {
				return
			}
			if _, err := c.Write(b); err != nil {
				return
			}
			_, _ = io.Copy(c, io.LimitReader(zeros{}, int64(n)))
		}()
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestWANHelperClient is the client TestWAN_ConnectionsShareOneLink runs
// inside the namespace; it does nothing in a normal run.
func TestWANHelperClient(t *testing.T) {
	addr := os.Getenv("ACODE_WAN_HELPER_ADDR")
	if addr == "" {
		return
	}
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	b := []byte{1}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	rtt := time.Since(start)
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("rtt " + rtt.String() + " received " + strconv.FormatInt(n, 10) + "\n")
}

func helperRTT(t *testing.T, out string) time.Duration {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "rtt" {
			d, err := time.ParseDuration(f[1])
			if err == nil {
				return d
			}
		}
	}
	t.Fatalf("no round trip in the client's output:\n%s", out)
	return 0
}

// TestRun_WANComparesWithMysqldumpCompress runs the benchmark on a small
// table over a WAN link: mysqldump with and without --compress and acode
// with and without the protocol's compression all cross it, and the
// namespace is gone afterwards.
func TestRun_WANComparesWithMysqldumpCompress(t *testing.T) {
	skipWithoutWAN(t)
	bin := buildAcode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	_, err := Run(ctx, Config{Rows: []int{5_000}, Binary: bin, WAN: &WAN{Latency: 4 * time.Millisecond, BitsPerSec: 100_000_000},
		Dir: t.TempDir(), BufferPool: "256M"}, &out)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep Report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the JSON report: %v\n%s", err, out.String())
	}
	if rep.WAN != "4ms round trip, 100mbit shared" || len(rep.Sizes) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	tools := map[string]Measurement{}
	for _, m := range rep.Sizes[0].Runs {
		tools[m.Tool] = m
	}
	mixed := fmt.Sprintf("acode_local_compressed_reads_%d", max(1, min(4, runtime.GOMAXPROCS(0))/2))
	for _, name := range []string{"mysqldump", "mysqldump_compress", "acode_local", "acode_local_compress", mixed} {
		m, ok := tools[name]
		if !ok || m.Rows != 5_000 || m.Seconds <= 0 || m.CPUSeconds <= 0 {
			t.Errorf("%s: %+v (present %v)", name, m, ok)
		}
	}
	for _, name := range []string{"acode_local", "acode_local_compress", mixed} {
		if tools[name].RatioCompressed <= 0 || tools[name].OutputBytes < 10_000 {
			t.Errorf("%s: %+v, want a ratio to mysqldump --compress and Parquet written", name, tools[name])
		}
	}
	for _, pair := range [][2]string{{"mysqldump", "mysqldump_compress"}, {"acode_local", "acode_local_compress"}} {
		plain, packed := tools[pair[0]].ServerBytesSent, tools[pair[1]].ServerBytesSent
		if plain <= 0 || packed <= 0 || packed > plain*3/4 {
			t.Errorf("server sent %d bytes to %s and %d to %s: want compression to cut it by a quarter at least", plain, pair[0], packed, pair[1])
		}
	}
	// One range (5k rows): the first reader, a compressed one, reads it.
	if plain, split := tools["acode_local"].ServerBytesSent, tools[mixed].ServerBytesSent; split <= 0 || split > plain*3/4 {
		t.Errorf("server sent %d bytes to acode_local and %d to %s: want its compressed reader to cut it by a quarter at least", plain, split, mixed)
	}
	if !strings.Contains(out.String(), "mysqldump --compress)") {
		t.Errorf("no ratio to mysqldump --compress printed:\n%s", out.String())
	}
	if list, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(list), wanNamePrefix+strconv.Itoa(os.Getpid())) {
		t.Errorf("namespace left after the run:\n%s", list)
	}
}
