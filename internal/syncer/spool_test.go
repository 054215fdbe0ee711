package syncer

import (
	"testing"

	"github.com/acode-dev/acode/internal/config"
)

// Row groups stay in memory while every writer's fits the 128 MiB budget;
// big row groups or many writers go to the spool dir.
func TestSpoolPages(t *testing.T) {
	def := config.DefaultSettings(t.TempDir()).Sync
	for _, tc := range []struct {
		name                     string
		streams, reads, groupMiB int
		want                     bool
	}{
		{"one writer of 64 MiB", 1, 1, 64, false},
		{"three writers of 64 MiB", 3, 1, 64, true},
		{"six writers of 16 MiB", 3, 2, 16, false},
		{"huge row groups", 1, 1, 256, true},
	} {
		st := def
		st.ParallelStreams, st.MaxParallelReads, st.RowGroupMB = tc.streams, tc.reads, tc.groupMiB
		if got := spoolPages(st); got != tc.want {
			t.Errorf("%s: spoolPages = %v, want %v", tc.name, got, tc.want)
		}
	}
}
