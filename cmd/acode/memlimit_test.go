package main

import "testing"

// The sync's soft memory limit grows with its writers and, to S3, with each
// writer's uploads (request buffers: the parts are read from the spool files).
func TestSyncMemoryLimit_FollowsTheWriters(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, tc := range []struct {
		name    string
		writers int
		upload  int64
		want    int64
	}{
		{"one writer", 1, 0, 110 * mib},
		{"one stream, two readers", 2, 0, 140 * mib},
		{"one stream, two readers, to S3", 2, 4 * mib, 148 * mib},
		{"three streams, two readers", 6, 0, 260 * mib},
	} {
		if got := syncMemoryLimit(tc.writers, tc.upload); got != tc.want {
			t.Errorf("%s: %d MiB, want %d MiB", tc.name, got/mib, tc.want/mib)
		}
	}
}
