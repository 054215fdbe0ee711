package storage

import (
	"context"
	"fmt"
)

// CrossCopier is a Store that can copy an object out of another store
// without the bytes passing through acode (two S3 buckets on one
// endpoint, reached with the same credentials).
type CrossCopier interface {
	// CopyFrom makes dstKey a copy of src's srcKey. It reports false, and
	// does nothing, when it cannot copy from src server-side.
	CopyFrom(ctx context.Context, src Store, srcKey, dstKey string) (bool, error)
}

// CopyBetween makes dst's dstKey a copy of src's srcKey: src.Copy when
// they are one store, server-side when dst can copy from src, else read
// from src and written to dst. ErrNotExist when srcKey is missing.
func CopyBetween(ctx context.Context, src Store, srcKey string, dst Store, dstKey string) error {
	if src == dst {
		return src.Copy(ctx, srcKey, dstKey)
	}
	if cc, ok := dst.(CrossCopier); ok {
		if done, err := cc.CopyFrom(ctx, src, srcKey, dstKey); done || err != nil {
			return err
		}
	}
	info, err := src.Stat(ctx, srcKey)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src.Location(srcKey), err)
	}
	rc, err := src.Open(ctx, srcKey)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src.Location(srcKey), err)
	}
	defer rc.Close()
	if err := dst.Put(ctx, dstKey, rc, info.Size); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src.Location(srcKey), dst.Location(dstKey), err)
	}
	return nil
}
