package snapshot

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/storage"
)

// QuarantineCommitted copies a committed snapshot found corrupt (a file
// missing or not matching its manifest) under prefix, with its manifest
// (status quarantined), before a restore replaces it: the bytes a person
// may want to examine survive the repair. Files already gone are listed in
// the manifest's NotKept. The partition itself is not touched.
func QuarantineCommitted(ctx context.Context, store storage.Store, prefix string, m Manifest) (*Manifest, error) {
	var kept []File
	for _, f := range m.Files {
		key := layout.Join(prefix, path.Base(f.Key))
		err := copyObject(ctx, store, f.Key, key)
		if errors.Is(err, storage.ErrNotExist) {
			m.NotKept = append(m.NotKept, f)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("quarantine %s: %w", f.Key, err)
		}
		f.Key = key
		kept = append(kept, f)
	}
	m.Status, m.Files = StatusQuarantined, kept
	if err := writeJSON(ctx, store, QuarantineManifestKey(prefix), m); err != nil {
		return nil, fmt.Errorf("quarantine manifest: %w", err)
	}
	return &m, nil
}

func copyObject(ctx context.Context, store storage.Store, from, to string) error {
	info, err := store.Stat(ctx, from)
	if err != nil {
		return err
	}
	r, err := store.Open(ctx, from)
	if err != nil {
		return err
	}
	defer r.Close()
	return store.Put(ctx, to, r, info.Size)
}
