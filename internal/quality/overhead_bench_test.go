package quality_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSyncOverhead measures what the quality statistics and rules cost
// a real sync: the same 1M-row demo job (three streams) with quality on and
// off, alternated in the same run so machine load hits both alike.
//
//	go test ./internal/quality -run XXX -bench SyncOverhead -benchtime 1x
func BenchmarkSyncOverhead(b *testing.B) {
	e := newEnvB(b, 1_000_000)
	settings := func(enabled bool) {
		body := "state_db: .acode/state.db\nsync:\n  chunk_rows: 100000\nquality:\n  enabled: false\n"
		if enabled {
			body = "state_db: .acode/state.db\nsync:\n  chunk_rows: 100000\n"
		}
		if err := os.WriteFile(filepath.Join(e.Dir, "acode.yaml"), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var on, off time.Duration
	for b.Loop() {
		for round := range 6 {
			enabled := round%2 == 1
			settings(enabled)
			start := time.Now()
			res, err := e.syncB(b)
			d := time.Since(start)
			if err != nil || res.Rows < 1_000_000 {
				b.Fatalf("sync: %v (%d rows)", err, res.Rows)
			}
			if enabled {
				on += d
			} else {
				off += d
			}
			b.Logf("quality %v: %s (%d rows)", enabled, d.Round(time.Millisecond), res.Rows)
		}
	}
	overhead := (on.Seconds() - off.Seconds()) / off.Seconds()
	b.ReportMetric(overhead*100, "%overhead")
	b.Logf("quality on %s, off %s: overhead %.1f%%", on.Round(time.Millisecond), off.Round(time.Millisecond), overhead*100)
}
