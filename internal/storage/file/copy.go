package file

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/acode-dev/acode/internal/storage"
)

// Copy makes dst a hard link to src's file when it can (same filesystem, so
// free and instant) and a full fsynced copy otherwise; either way dst
// appears atomically by rename. A hard link is safe because Put never writes
// in place: overwriting src later replaces its directory entry, not the
// shared inode.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	if err := storage.ValidateKey(src); err != nil {
		return err
	}
	if err := storage.ValidateKey(dst); err != nil {
		return err
	}
	srcPath, dstPath := s.Location(src), s.Location(dst)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("copy %s to %s: %w", srcPath, dstPath, err)
	}
	if _, err := s.Stat(ctx, src); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if src == dst {
		return nil
	}
	s.dirs.RLock()
	defer s.dirs.RUnlock()
	if err := s.mkdirAll(filepath.Dir(dstPath)); err != nil {
		return fmt.Errorf("copy %s to %s: %w", srcPath, dstPath, classifyAccess(err))
	}
	tmp, err := s.linkTemp(srcPath, filepath.Dir(dstPath))
	if err != nil {
		tmp, err = s.copyTemp(ctx, src, filepath.Dir(dstPath))
	}
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", srcPath, dstPath, classify(err))
	}
	if err := os.Rename(tmp, dstPath); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", srcPath, dstPath, classifyAccess(err))
	}
	return syncDir(filepath.Dir(dstPath))
}

// linkTemp hard-links srcPath to a fresh temp name in dir.
func (s *Store) linkTemp(srcPath, dir string) (string, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	tmp := filepath.Join(dir, tempPrefix+hex.EncodeToString(b[:]))
	if err := os.Link(srcPath, tmp); err != nil {
		return "", err
	}
	return tmp, nil
}

// copyTemp copies src's bytes into a fresh fsynced temp file in dir.
func (s *Store) copyTemp(ctx context.Context, src, dir string) (string, error) {
	r, err := s.Open(ctx, src)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return s.writeTemp(ctx, dir, storage.GuardReader(ctx, r, -1))
}

// Delete removes the keys' files, ignoring missing ones, then removes parent
// directories left empty, up to (not including) the root, so a deleted
// partition does not linger as an empty directory.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := storage.ValidateKey(k); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		path := s.Location(k)
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("delete %s: %w", path, classify(err))
		}
		if fi.IsDir() {
			continue // a directory is not an object
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", path, classify(err))
		}
		s.removeEmptyParents(filepath.Dir(path))
	}
	return nil
}

// removeEmptyParents removes dir and its ancestors while they are empty,
// stopping at the root. Failure (not empty, a concurrent Put) just stops.
func (s *Store) removeEmptyParents(dir string) {
	s.dirs.Lock()
	defer s.dirs.Unlock()
	for dir != s.root && len(dir) > len(s.root) {
		if err := os.Remove(dir); err != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
