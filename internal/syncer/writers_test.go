package syncer

import (
	"runtime"
	"testing"

	"github.com/acode-dev/acode/internal/config"
)

// A job writes one file per reader of each stream it reads at once; a
// stream uses no more readers than cores, a job no more streams than it has.
func TestWriters(t *testing.T) {
	t.Parallel()
	cores := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		name           string
		parallel       int
		reads, streams int
		want           int
	}{
		{"one stream, one reader", 3, 1, 1, 1},
		{"three streams, one reader each", 3, 1, 3, 3},
		{"fewer streams than slots", 3, 1, 2, 2},
		{"more streams than slots", 2, 1, 5, 2},
		{"readers capped by cores", 1, 64, 1, min(64, cores)},
		{"no streams still one writer", 3, 1, 0, 1},
	} {
		st := config.SyncSettings{ParallelStreams: tc.parallel, MaxParallelReads: tc.reads}
		if got := Writers(st, tc.streams); got != tc.want {
			t.Errorf("%s: Writers = %d, want %d", tc.name, got, tc.want)
		}
	}
}
