package syncer

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/acode-dev/acode/internal/storage"
)

// errPartDiscarded ends the upload of a part whose file is thrown away.
var errPartDiscarded = errors.New("part discarded before it was complete")

// tailReader reads a spool file while the encoder is still appending to it,
// so a part's upload runs beside its encoding instead of after it: a read
// past the bytes written so far waits for more, and the reader ends when the
// writer finishes the file (io.EOF) or gives it up (its error). The writer
// calls wrote after each write and finish exactly once. It is a
// storage.Growing too, so S3 uploads each part of it straight from the
// file (ReadAt) once written, with no copy of the part in memory.
type tailReader struct {
	f   *os.File // a descriptor of its own: reads do not move the writer's offset
	off int64

	mu      sync.Mutex
	more    *sync.Cond
	written int64
	done    bool
	err     error
}

func newTailReader(path string) (*tailReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	t := &tailReader{f: f}
	t.more = sync.NewCond(&t.mu)
	return t, nil
}

// wrote says the file now holds n bytes.
func (t *tailReader) wrote(n int64) {
	t.mu.Lock()
	t.written = n
	t.mu.Unlock()
	t.more.Broadcast()
}

// finish says no more bytes come: the file is complete (err nil) or
// abandoned (err is what the reader returns from then on). Only the first
// call counts.
func (t *tailReader) finish(err error) {
	t.mu.Lock()
	if !t.done {
		t.done, t.err = true, err
	}
	t.mu.Unlock()
	t.more.Broadcast()
}

// Read implements io.Reader.
func (t *tailReader) Read(p []byte) (int, error) {
	t.mu.Lock()
	for t.off == t.written && !t.done {
		t.more.Wait()
	}
	avail, done, err := t.written-t.off, t.done, t.err
	t.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if avail == 0 && done {
		return 0, io.EOF
	}
	n, rerr := t.f.ReadAt(p[:min(int64(len(p)), avail)], t.off)
	t.off += int64(n)
	if rerr == io.EOF && n > 0 {
		rerr = nil // the file holds what wrote said; EOF only at the end
	}
	return n, rerr
}

var _ storage.Growing = (*tailReader)(nil)

// Written implements storage.Growing: it waits until the file holds n
// bytes or the writer finished it.
func (t *tailReader) Written(ctx context.Context, n int64) (int64, bool, error) {
	// Wake the wait when ctx ends; taking the lock first means the waiter
	// is either inside Wait or has yet to look at ctx, so none is missed.
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.mu.Unlock() //nolint:staticcheck // an empty critical section orders the wake-up after the waiter's check
		t.more.Broadcast()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.written < n && !t.done && ctx.Err() == nil {
		t.more.Wait()
	}
	if t.err != nil {
		return t.written, t.done, t.err
	}
	if t.written < n && !t.done {
		return t.written, false, ctx.Err()
	}
	return t.written, t.done, nil
}

// ReadAt implements io.ReaderAt over the bytes written so far; the
// caller (Written) knows which those are.
func (t *tailReader) ReadAt(p []byte, off int64) (int, error) { return t.f.ReadAt(p, off) }

// Close releases the reader's descriptor.
func (t *tailReader) Close() error { return t.f.Close() }
