// Package partfile reads committed Parquet parts back in the form the MySQL
// reader handed them to the encoder: one value per table column, MySQL's
// text, nil for NULL. With it the statistics of package stats have one
// definition whether they are gathered while a sync writes the files or
// recomputed from the files later (`acode validate --deep`, the merge of
// `acode reconcile`).
package partfile

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

// Local is a part downloaded to a temp file (S3 has no ReaderAt) and opened
// as Parquet, with the size and SHA-256 of what was read.
type Local struct {
	Key    string
	File   *pq.File
	Size   int64
	SHA256 string
	f      *os.File
}

// Fetch downloads key into a temp file and opens it. The caller closes the
// Local, which removes the temp file.
func Fetch(ctx context.Context, store storage.Store, key string) (*Local, error) {
	rc, err := store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open part %s: %w", key, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "acode-part-*.parquet")
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
	if l.File, err = pq.OpenFile(f, l.Size); err != nil {
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
