package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/acode-dev/acode/internal/stats"
	"hash"
	"os"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/storage"
)

// part is one Parquet file being written: encoded into a local spool file
// while its SHA-256 and size are taken in the same pass, and stored in one
// atomic Put. To S3 the Put streams the file while it is written (see
// stream), so little is left to send when the part closes; the file backend
// links the finished file in instead. The row group being built stays in
// memory, or in the spool dir when opts.SpoolDir says so (see spoolPages).
type part struct {
	key    string // where it is stored: its staging key, or its published key when deferred
	keep   string // where the finished file is kept for a quarantine; "" to remove it
	file   *os.File
	hash   hash.Hash
	count  int64
	w      *parquet.Writer
	ranges []int
	// counted is the source's count of the ranges' rows, each taken in its
	// read's snapshot (mysql.ReadOptions.Counted); -1 once a range was
	// read without a count.
	counted int64
	// snap is the earliest binlog position of the ranges' snapshots;
	// unsnapped is set once a range's position could not be read.
	snap      *mysql.SnapshotPos
	unsnapped bool
	// stats gathers the part's rows (nil with quality checks off); summary
	// is its mergeable form, recorded with the part so that a resumed
	// attempt merges it instead of marking the stream partial.
	stats   *stats.Worker
	summary string

	// The upload running beside the encoding, when stream started one.
	tail     *tailReader
	streamed chan error // the streaming Put's result
	ended    bool       // streamed was received
	pending  storage.Pending
}

// stored is what the upload of a part produced.
type stored struct {
	rows, size int64
	sha256     string
	// pending is the deferred upload's handle as JSON; "" when the part
	// was stored whole (staged).
	pending string
}

// addCounted adds the source's count of a range read into the part; n < 0
// means the range was not counted.
func (p *part) addCounted(n int64) {
	if n < 0 || p.counted < 0 {
		p.counted = -1
		return
	}
	p.counted += n
}

func newPart(dir, key string, s *parquet.Schema, emittedAt time.Time, opts parquet.Options) (*part, error) {
	f, err := os.CreateTemp(dir, "part-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	p := &part{key: key, file: f, hash: sha256.New()}
	w, err := parquet.NewWriter(p, s, emittedAt, opts)
	if err != nil {
		p.discard()
		return nil, fmt.Errorf("start parquet file: %w", err)
	}
	p.w = w
	return p, nil
}

// stream starts storing the part while it is still being written: the Put
// reads the spool file behind the encoder and completes once close has
// written the footer. A part that is discarded instead aborts its Put,
// which leaves nothing behind (Put is atomic). With deferred, the upload
// is left pending for the commit to complete.
func (p *part) stream(ctx context.Context, store storage.Store, deferred storage.Deferrer) error {
	t, err := newTailReader(p.file.Name())
	if err != nil {
		return fmt.Errorf("follow spool file: %w", err)
	}
	p.tail, p.streamed = t, make(chan error, 1)
	if deferred != nil {
		go func() {
			pend, err := deferred.PutDeferred(ctx, p.key, t, -1)
			p.pending = pend // read only after streamed is received
			p.streamed <- err
		}()
		return nil
	}
	go func() { p.streamed <- store.Put(ctx, p.key, t, -1) }()
	return nil
}

// Write implements io.Writer for the encoder: spool, hash and count.
func (p *part) Write(b []byte) (int, error) {
	n, err := p.file.Write(b)
	p.hash.Write(b[:n])
	p.count += int64(n)
	if p.tail != nil {
		p.tail.wrote(p.count)
	}
	return n, err
}

// close writes the Parquet footer. It runs on the worker, so the encoder's
// buffers are freed before the next part's encoder is built.
func (p *part) close() error {
	if err := p.w.Close(); err != nil {
		p.discard()
		return fmt.Errorf("close parquet file: %w", err)
	}
	if p.tail != nil {
		p.tail.finish(nil)
	}
	return nil
}

// endStream waits for the streaming Put, if one runs, and returns its
// result; streamed is false when the part was not streamed.
func (p *part) endStream() (streamed bool, err error) {
	if p.tail == nil {
		return false, nil
	}
	if !p.ended {
		p.tail.finish(errPartDiscarded) // no-op after close's finish
		err, p.ended = <-p.streamed, true
		p.tail.Close()
	}
	return true, err
}

// upload stores the closed file under its key in one atomic Put (or waits
// for the Put streaming it) and removes the spool file, or moves it to
// p.keep.
func (p *part) upload(ctx context.Context, store storage.Store) (stored, error) {
	defer p.discard()
	streamed, err := p.endStream()
	if !streamed {
		err = storage.PutFile(ctx, store, p.key, p.file, p.count)
	}
	if err != nil {
		return stored{}, failure.Destination("", fmt.Errorf("upload %s: %w", store.Location(p.key), err))
	}
	out := stored{rows: p.w.Rows(), size: p.count, sha256: hex.EncodeToString(p.hash.Sum(nil))}
	if p.pending.ID != "" {
		b, err := json.Marshal(p.pending)
		if err != nil {
			return stored{}, fmt.Errorf("upload %s: %w", store.Location(p.key), err)
		}
		out.pending = string(b)
	}
	if p.keep != "" {
		if err := os.Rename(p.file.Name(), p.keep); err != nil {
			return stored{}, fmt.Errorf("keep %s for a quarantine: %w", p.key, err)
		}
	}
	return out, nil
}

// uploader overlaps a worker's reading with the upload of its previous
// part: at most one upload runs in the background per worker, so spool
// space and memory stay bounded while the source keeps streaming.
type uploader struct {
	run  func(*part) error
	done chan error
	busy bool
}

func newUploader(run func(*part) error) *uploader {
	return &uploader{run: run, done: make(chan error, 1)}
}

// start waits for the previous upload, then uploads p in the background.
// p is discarded when the previous upload failed.
func (u *uploader) start(p *part) error {
	if err := u.wait(); err != nil {
		p.discard()
		return err
	}
	u.busy = true
	go func() { u.done <- u.run(p) }()
	return nil
}

// wait returns the result of the upload in flight, if any.
func (u *uploader) wait() error {
	if !u.busy {
		return nil
	}
	u.busy = false
	return <-u.done
}

func (p *part) discard() {
	p.endStream()
	if p.file != nil {
		p.file.Close()
		os.Remove(p.file.Name())
		p.file = nil
	}
}

// addSnapshot keeps the earlier of the part's snapshot position and that
// of a range just started (err: the server did not tell it).
func (p *part) addSnapshot(at mysql.SnapshotPos, err error) {
	switch {
	case err != nil:
		p.unsnapped = true
	case p.snap == nil || at.Earlier(*p.snap):
		p.snap = &at
	}
}

// snapshot is the part's earliest range snapshot for its record; empty
// when some range's position is unknown.
func (p *part) snapshot() mysql.SnapshotPos {
	if p.snap == nil || p.unsnapped {
		return mysql.SnapshotPos{}
	}
	return *p.snap
}
