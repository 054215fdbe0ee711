package parquet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/storage"
)

// Local is a committed part downloaded to a temp file (S3 has no
// ReaderAt), with the size and SHA-256 of what was read. File is set once
// the part opened as Parquet (Fetch, or Open).
type Local struct {
	Key    string
	File   *pq.File
	Size   int64
	SHA256 string
	f      *os.File
}

// Download copies key into a temp file, hashing it on the way; errors
// wrap the store's (storage.ErrNotExist for a missing part). The caller
// closes the Local, which removes the temp file.
func Download(ctx context.Context, store storage.Store, key string) (*Local, error) {
	return DownloadIn(ctx, store, key, "")
}

// DownloadIn is Download into dir ("" for the system temp dir): a caller
// that can be killed mid-way passes a scratch dir its next run empties, so
// a crash leaves no part behind for good.
func DownloadIn(ctx context.Context, store storage.Store, key, dir string) (*Local, error) {
	rc, err := store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open part %s: %w", key, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(dir, "acode-part-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("temp file: %w", err)
	}
	l := &Local{Key: key, f: f}
	h := sha256.New()
	if l.Size, err = io.Copy(io.MultiWriter(f, h), rc); err != nil {
		l.Close()
		return nil, fmt.Errorf("read part %s: %w", key, err)
	}
	l.SHA256 = hex.EncodeToString(h.Sum(nil))
	return l, nil
}

// Open opens the downloaded part as Parquet.
func (l *Local) Open() (*pq.File, error) {
	pf, err := pq.OpenFile(l.f, l.Size)
	if err != nil {
		return nil, err
	}
	l.File = pf
	return pf, nil
}

// Fetch downloads key and opens it as Parquet.
func Fetch(ctx context.Context, store storage.Store, key string) (*Local, error) {
	return FetchIn(ctx, store, key, "")
}

// FetchIn is Fetch into dir (see DownloadIn).
func FetchIn(ctx context.Context, store storage.Store, key, dir string) (*Local, error) {
	l, err := DownloadIn(ctx, store, key, dir)
	if err != nil {
		return nil, err
	}
	if _, err := l.Open(); err != nil {
		l.Close()
		return nil, fmt.Errorf("open part %s as parquet: %w", key, err)
	}
	return l, nil
}

// Close removes the temp file.
func (l *Local) Close() {
	if l != nil && l.f != nil {
		l.f.Close()
		os.Remove(l.f.Name())
	}
}

// EachRow calls fn with every row of pf in file order. The row and the
// byte slices its values point to are reused after fn returns: fn keeps
// copies (pq.Value.Clone) of what it needs later.
func EachRow(pf *pq.File, fn func(pq.Row) error) error {
	buf := make([]pq.Row, 128)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				if ferr := fn(r); ferr != nil {
					rows.Close()
					return ferr
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return fmt.Errorf("read rows: %w", err)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("read rows: %w", err)
		}
	}
	return nil
}

// ColumnValues calls fn with every non-NULL value of the top-level column
// name of pf, in file order.
func ColumnValues(pf *pq.File, name string, fn func(pq.Value)) error {
	leaf, ok := pf.Schema().Lookup(name)
	if !ok {
		return fmt.Errorf("column %s not in file", name)
	}
	buf := make([]pq.Value, 1024)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			page, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return fmt.Errorf("read column %s: %w", name, err)
			}
			vals := page.Values()
			for {
				n, err := vals.ReadValues(buf)
				for _, v := range buf[:n] {
					if !v.IsNull() {
						fn(v)
					}
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					pq.Release(page)
					pages.Close()
					return fmt.Errorf("read column %s: %w", name, err)
				}
			}
			pq.Release(page)
		}
		pages.Close()
	}
	return nil
}
