package parquet

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// TestSpoolDir_KeepsRowGroupPagesOffTheHeap writes one big row group (the
// byte bound far above the file) with SpoolDir set: once the page buffers
// and dictionaries are warm the live heap must stop growing while the row
// group keeps growing by tens of MiB, the file must read back whole, and no
// page file may be left in the spool dir.
func TestSpoolDir_KeepsRowGroupPagesOffTheHeap(t *testing.T) {
	testenv.SkipShort(t, "seconds of CPU to write 2M rows")
	if testenv.RaceEnabled {
		// One goroutine writing millions of rows: nothing for the race
		// detector, which makes it minutes long. .ci/run runs it without.
		t.Skip("a heap measurement of one goroutine; run without -race")
	}
	// Not parallel: it measures the heap.
	s := mustSchema(t, acodeTable()[:6], ModeExact)
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "one-group.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := DefaultOptions()
	opts.RowGroupBytes = 1 << 30
	opts.RowGroupRows = 10_000_000
	opts.SpoolDir = spool
	w, err := NewWriter(f, s, emittedAt, opts)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	var warm, peak uint64
	var g rowGen
	const rows, warmRows = 2_000_000, 400_000
	for i := 1; i <= rows; i++ {
		if err := w.Write(g.next()[:6]); err != nil {
			t.Fatal(err)
		}
		if i%100_000 == 0 && i >= warmRows {
			runtime.GC() // the live heap, not garbage awaiting collection
			runtime.ReadMemStats(&ms)
			if i == warmRows {
				warm = ms.HeapInuse
			}
			peak = max(peak, ms.HeapInuse)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	if st.Size() < 24<<20 {
		t.Fatalf("file is %d MiB; the test needs one row group well above the heap cap", st.Size()>>20)
	}
	const growthCap = 8 << 20
	if peak-warm > growthCap {
		t.Errorf("live heap grew from %d to %d MiB while the %d MiB row group was written; want under %d MiB growth",
			warm>>20, peak>>20, st.Size()>>20, growthCap>>20)
	}
	t.Logf("file %d MiB in one row group, live heap %d MiB warm, %d MiB peak", st.Size()>>20, warm>>20, peak>>20)
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool dir holds %d files after Close", len(left))
	}
	res := testenv.DuckDB(t).Run(t,
		"SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS ids FROM read_parquet("+testenv.SQLString(path)+")",
		"SELECT count(DISTINCT row_group_id)::VARCHAR AS groups FROM parquet_metadata("+testenv.SQLString(path)+")")
	if got := res[0].Rows[0]; got["n"] != "2000000" || got["ids"] != "2000000" {
		t.Errorf("DuckDB reads %v, want 2000000 distinct rows", got)
	}
	if got := res[1].Rows[0]["groups"]; got != "1" {
		t.Errorf("%v row groups, want 1", got)
	}
}
