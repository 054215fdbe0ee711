package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/storage"
)

// part is one Parquet file being written: encoded into a local spool file
// while its SHA-256 and size are taken in the same pass, then uploaded in
// one atomic Put. Memory stays near one page per column whatever the file
// and row-group sizes: the encoder keeps its row group's pages in the spool
// dir as well.
type part struct {
	file   *os.File
	hash   hash.Hash
	count  int64
	w      *parquet.Writer
	ranges []int
}

func newPart(dir string, s *parquet.Schema, emittedAt time.Time, opts parquet.Options) (*part, error) {
	f, err := os.CreateTemp(dir, "part-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	// The row group being built waits in the spool dir too, not in memory:
	// with several workers, in-memory row groups were most of the RSS.
	opts.SpoolDir = dir
	p := &part{file: f, hash: sha256.New()}
	w, err := parquet.NewWriter(p, s, emittedAt, opts)
	if err != nil {
		p.discard()
		return nil, fmt.Errorf("start parquet file: %w", err)
	}
	p.w = w
	return p, nil
}

// Write implements io.Writer for the encoder: spool, hash and count.
func (p *part) Write(b []byte) (int, error) {
	n, err := p.file.Write(b)
	p.hash.Write(b[:n])
	p.count += int64(n)
	return n, err
}

// finish closes the Parquet footer and uploads the file to key.
func (p *part) finish(ctx context.Context, store storage.Store, key string) (rows, size int64, sum string, err error) {
	defer p.discard()
	if err := p.w.Close(); err != nil {
		return 0, 0, "", fmt.Errorf("close parquet file: %w", err)
	}
	if _, err := p.file.Seek(0, io.SeekStart); err != nil {
		return 0, 0, "", fmt.Errorf("rewind spool file: %w", err)
	}
	if err := store.Put(ctx, key, p.file, p.count); err != nil {
		return 0, 0, "", destErr("", fmt.Errorf("upload %s: %w", store.Location(key), err))
	}
	return p.w.Rows(), p.count, hex.EncodeToString(p.hash.Sum(nil)), nil
}

func (p *part) discard() {
	if p.file != nil {
		p.file.Close()
		os.Remove(p.file.Name())
		p.file = nil
	}
}
