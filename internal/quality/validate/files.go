package validate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// localFile is a part downloaded to a temp file (S3 has no ReaderAt), with
// the SHA-256 and size of what was read.
type localFile struct {
	f      *os.File
	size   int64
	sha256 string
}

func (l *localFile) Close() {
	if l != nil && l.f != nil {
		l.f.Close()
		os.Remove(l.f.Name())
	}
}

// fetch copies key into a temp file, hashing it on the way.
func fetch(ctx context.Context, store storage.Store, key string) (*localFile, error) {
	rc, err := store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "acode-validate-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("temp file: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), rc)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return &localFile{f: f, size: n, sha256: hex.EncodeToString(h.Sum(nil))}, nil
}

// fileProblems checks one part against its manifest entry and schema,
// returning what is wrong (nothing when it is intact) and the opened
// Parquet file when it could be opened.
func fileProblems(ctx context.Context, store storage.Store, f snapshot.File, schema snapshot.Schema) ([]string, *localFile, *pq.File, error) {
	lf, err := fetch(ctx, store, f.Key)
	if errors.Is(err, storage.ErrNotExist) {
		return []string{"missing: " + f.Key}, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	var problems []string
	if lf.size != f.Bytes {
		problems = append(problems, fmt.Sprintf("size: %s is %d bytes, manifest says %d", f.Key, lf.size, f.Bytes))
	}
	if f.SHA256 != "" && lf.sha256 != f.SHA256 {
		problems = append(problems, fmt.Sprintf("checksum: %s has SHA-256 %s…, manifest says %s…", f.Key, lf.sha256[:12], short(f.SHA256)))
	}
	pf, err := pq.OpenFile(lf.f, lf.size)
	if err != nil {
		problems = append(problems, fmt.Sprintf("parquet: %s does not open: %v", f.Key, err))
		return problems, lf, nil, nil
	}
	if pf.NumRows() != f.Rows {
		problems = append(problems, fmt.Sprintf("rows: %s holds %d rows, manifest says %d", f.Key, pf.NumRows(), f.Rows))
	}
	if p := schemaProblem(pf, schema); p != "" {
		problems = append(problems, fmt.Sprintf("schema: %s %s", f.Key, p))
	}
	return problems, lf, pf, nil
}

// schemaProblem compares the file's top-level fields with the manifest's
// recorded columns: names, order and nullability.
func schemaProblem(pf *pq.File, s snapshot.Schema) string {
	fields := pf.Schema().Fields()
	if len(s.Columns) == 0 {
		return ""
	}
	if len(fields) != len(s.Columns) {
		return fmt.Sprintf("has %d columns, manifest records %d", len(fields), len(s.Columns))
	}
	for i, f := range fields {
		c := s.Columns[i]
		if f.Name() != c.Name {
			return fmt.Sprintf("column %d is %s, manifest records %s", i+1, f.Name(), c.Name)
		}
		if f.Optional() != c.Nullable {
			return fmt.Sprintf("column %s nullable=%v, manifest records %v", c.Name, f.Optional(), c.Nullable)
		}
	}
	return ""
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
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
