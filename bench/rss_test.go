package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestRunChild_PeakRSSIsTheChildsOwn runs this test binary again as a child
// that touches 32 MiB, from a parent that holds 512 MiB: the peak reported
// is the child's (at least its 32 MiB, well below the parent's), where the
// child's rusage would report the parent's.
func TestRunChild_PeakRSSIsTheChildsOwn(t *testing.T) {
	if n, err := strconv.Atoi(os.Getenv("ACODE_BENCH_RSS_CHILD_MIB")); err == nil {
		b := make([]byte, n<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		time.Sleep(100 * time.Millisecond) // sampled at least once at its peak
		os.Exit(int(b[len(b)-4096]) - 1)
	}
	parent := make([]byte, 512<<20)
	for i := 0; i < len(parent); i += 4096 {
		parent[i] = 1
	}
	env := append(os.Environ(), "ACODE_BENCH_RSS_CHILD_MIB=32")
	c, err := runChild(context.Background(), os.Args[0], []string{"-test.run=^TestRunChild_PeakRSSIsTheChildsOwn$"}, env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Under the race detector the child's own is about 3x its heap.
	if mib := c.rssKiB >> 10; mib < 32 || mib >= 400 {
		t.Errorf("child peak RSS %d MiB, want its own 32-400 (the parent holds %d MiB)", mib, len(parent)>>20)
	}
}
