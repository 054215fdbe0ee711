package configexport

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/acode-dev/acode/internal/storage"
)

// Upload stores doc as prefix/acode-connections-YYYYMM.json (the month of
// its export) and returns the key. A second export in the same month
// replaces that month's backup, as the seed's monthly job did.
func Upload(ctx context.Context, st storage.Store, prefix string, doc *Document) (string, error) {
	var buf bytes.Buffer
	if err := Encode(&buf, doc); err != nil {
		return "", err
	}
	key := ObjectName(doc.ExportedAt)
	if p := strings.Trim(prefix, "/"); p != "" {
		key = p + "/" + key
	}
	if err := st.Put(ctx, key, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		return "", fmt.Errorf("upload config export: %w", err)
	}
	return key, nil
}

// Fetch reads and checks the document stored under key.
func Fetch(ctx context.Context, st storage.Store, key string) (*Document, error) {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read config export: %w", err)
	}
	defer rc.Close()
	return Decode(rc)
}

// WriteFile writes doc into dir as acode-connections-YYYYMM.json, through a
// temp file and a rename, and returns the path.
func WriteFile(dir string, doc *Document) (string, error) {
	var buf bytes.Buffer
	if err := Encode(&buf, doc); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write config export: %w", err)
	}
	target := filepath.Join(dir, ObjectName(doc.ExportedAt))
	if err := writeAtomic(target, buf.Bytes()); err != nil {
		return "", err
	}
	return target, nil
}
