package main

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set. A sync's live heap is about 50 MiB per reader (page buffers
// and dictionaries; row groups wait on disk) while it allocates gigabytes
// of short-lived values: without a limit the GC lets garbage pile up to
// twice the live heap. The limit keeps a job's RSS near 256 MiB at no
// measurable CPU cost (5M rows: 22.4 s CPU with it, 22.6 s without). It is
// soft: a larger live heap (many streams at once) still runs, with more GC.
const defaultMemoryLimit = 224 << 20

// limitMemory sets defaultMemoryLimit unless the user chose one.
func limitMemory() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}
