package storage

import (
	"context"
	"fmt"
	"io"
)

// GuardReader wraps a Put body for backend implementations. Its Read fails
// with ctx's error once ctx is done, and, when size >= 0, with
// ErrSizeMismatch as soon as r yields more than size bytes or reaches EOF
// short of it. Because the failure surfaces as a read error before the
// backend commits (rename, CompleteMultipartUpload), a truncated or
// cancelled body never becomes an object.
func GuardReader(ctx context.Context, r io.Reader, size int64) io.Reader {
	return &guardReader{ctx: ctx, r: r, size: size}
}

type guardReader struct {
	ctx  context.Context
	r    io.Reader
	size int64
	n    int64
}

func (g *guardReader) Read(p []byte) (int, error) {
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.size >= 0 && g.n > g.size {
		return n, fmt.Errorf("%w: read more than %d bytes", ErrSizeMismatch, g.size)
	}
	if err == io.EOF && g.size >= 0 && g.n != g.size {
		return n, fmt.Errorf("%w: got %d bytes, want %d", ErrSizeMismatch, g.n, g.size)
	}
	return n, err
}
