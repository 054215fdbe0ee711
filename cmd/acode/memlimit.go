package main

import (
	"os"
	"runtime/debug"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/storage/s3"
	"github.com/acode-dev/acode/internal/syncer"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set, for commands other than a single connection's sync (serve
// runs several). A sync allocates little garbage per row but builds whole
// row groups in memory; without a limit the GC lets the heap grow to twice
// its live size after a cycle that happened to end at a peak. The limit is
// soft: a larger live heap still runs, with more GC.
const defaultMemoryLimit = 224 << 20

// A sync's limit follows the Parquet writers it runs at once: a base for
// the runtime and the driver's buffers, plus a share per writer (its row
// group, page buffers and dictionaries) and, to S3, what its two uploads
// in flight hold (the part being written streams while the previous one
// completes). Those read their parts from the spool files, so they hold
// request buffers only (s3.FileUploadMemory), not parts: with the transfer
// manager's part buffers (Concurrency+1 parts of 8 MiB per upload, and a
// 236 MiB limit for them) a 5M-row sync to S3 peaked at 256-263 MiB. To a
// local directory, one stream with two readers gets 140 MiB: a 5M- and a
// 20M-row sync peak at 153 and 158 MiB, at the CPU of a 224 MiB limit
// (acode bench); to S3, 148 MiB. The ACODE connection's three streams get
// 260 MiB locally.
const (
	syncMemoryBase      = 80 << 20
	syncMemoryPerWriter = 30 << 20
	uploadsPerWriter    = 2
)

// limitMemory sets defaultMemoryLimit unless the user chose one.
func limitMemory() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}

// limitSyncMemory sets the limit for a sync of connection, from the writers
// it can run at once, unless the user chose a limit or the connection is
// unknown (the sync then reports that).
func limitSyncMemory(p *config.Project, connection string) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	conn, err := p.Connection(connection)
	if err != nil {
		return
	}
	var upload int64 // a local destination takes finished files by link
	if conn.Destination.Kind == config.KindS3 {
		upload = uploadsPerWriter * s3.FileUploadMemory
	}
	debug.SetMemoryLimit(syncMemoryLimit(syncer.Writers(p.Settings.Sync, len(conn.SelectedStreams())), upload))
}

// cdcGCPercent is the GC's growth target for `acode cdc` when GOGC is not
// set. A reader's live heap is steady (the open Parquet writers' pages and
// dictionaries, the chunks of a big transaction in flight, ~80 MiB for one
// stream), so the default 100 doubles it for little: at 50 a 1M-row
// transaction peaks at ~150 MiB RSS instead of ~200, for the same CPU
// within the noise (the GC's share stays ~3%).
const cdcGCPercent = 50

// limitCDCMemory sets cdcGCPercent unless the user chose GOGC.
func limitCDCMemory() {
	if _, ok := os.LookupEnv("GOGC"); ok {
		return
	}
	debug.SetGCPercent(cdcGCPercent)
}

// syncMemoryLimit is the soft limit of a sync running writers Parquet
// writers, each also holding upload bytes of upload buffers.
func syncMemoryLimit(writers int, upload int64) int64 {
	return syncMemoryBase + int64(writers)*(syncMemoryPerWriter+upload)
}
