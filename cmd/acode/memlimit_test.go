package main

import (
	"runtime"
	"testing"

	"github.com/acode-dev/acode/internal/config"
)

// The sync's soft memory limit grows with the writers it can run at once
// (streams read together times readers per stream, no more than cores) and,
// to S3, with each writer's upload buffers.
func TestSyncMemoryLimit_FollowsTheWriters(t *testing.T) {
	t.Parallel()
	def := config.DefaultSettings(t.TempDir()).Sync
	readers := int64(min(def.MaxParallelReads, runtime.GOMAXPROCS(0)))
	const mib = 1 << 20
	for _, tc := range []struct {
		name    string
		streams int
		upload  int64
		st      config.SyncSettings
		want    int64
	}{
		{"one stream", 1, 0, def, 80*mib + readers*30*mib},
		{"one stream to S3", 1, 48 * mib, def, 80*mib + readers*78*mib},
		{"the ACODE connection's three", 3, 0, def, 80*mib + 3*readers*30*mib},
		{"more streams than run at once", 10, 0, def, 80*mib + int64(def.ParallelStreams)*readers*30*mib},
		{"one reader", 3, 0, config.SyncSettings{ParallelStreams: 1, MaxParallelReads: 1}, 110 * mib},
	} {
		if got := syncMemoryLimit(tc.st, tc.streams, tc.upload); got != tc.want {
			t.Errorf("%s: %d MiB, want %d MiB", tc.name, got/mib, tc.want/mib)
		}
	}
}
