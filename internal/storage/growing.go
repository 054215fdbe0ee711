package storage

import (
	"context"
	"io"
)

// Growing is a Put body that is still being appended to and whose written
// bytes can be read at any offset: a part's spool file while the encoder
// writes it. A store that uploads in parts (S3) reads each part from it
// with ReadAt as soon as the part's bytes are written, instead of copying
// the stream into part buffers: the bytes are on disk already, so holding
// them in memory again only adds to the process's peak RSS. Other stores
// read it as a plain stream (Read ends with io.EOF once it is complete).
type Growing interface {
	io.Reader
	io.ReaderAt
	// Written blocks until at least n bytes are written or nothing more
	// will be, and returns the bytes written and whether they are all of
	// the body. err is why the writer gave the body up, or ctx's error.
	Written(ctx context.Context, n int64) (written int64, complete bool, err error)
}
