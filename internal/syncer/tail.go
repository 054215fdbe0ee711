package syncer

import (
	"errors"
	"io"
	"os"
	"sync"
)

// errPartDiscarded ends the upload of a part whose file is thrown away.
var errPartDiscarded = errors.New("part discarded before it was complete")

// tailReader reads a spool file while the encoder is still appending to it,
// so a part's upload runs beside its encoding instead of after it: a read
// past the bytes written so far waits for more, and the reader ends when the
// writer finishes the file (io.EOF) or gives it up (its error). The writer
// calls wrote after each write and finish exactly once.
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

// Close releases the reader's descriptor.
func (t *tailReader) Close() error { return t.f.Close() }
