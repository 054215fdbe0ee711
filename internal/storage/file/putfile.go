package file

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/acode-dev/acode/internal/storage"
)

var _ storage.FilePutter = (*Store)(nil)

// PutFile links f into place under key when f is on the store's filesystem
// (fsynced first, then a hard link under a temp name renamed over key: the
// same atomic appearance as Put, without writing the bytes again) and
// copies it with Put otherwise.
func (s *Store) PutFile(ctx context.Context, key string, f *os.File, size int64) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	path := s.Location(key)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("put %s: %w", path, err)
	}
	if size >= 0 && fi.Size() != size {
		return fmt.Errorf("put %s: %w: %s holds %d bytes, announced %d", path, storage.ErrSizeMismatch, f.Name(), fi.Size(), size)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put %s: sync %s: %w", path, f.Name(), err)
	}
	linked, err := s.linkFile(f.Name(), path)
	if err != nil {
		return fmt.Errorf("put %s: %w", path, classifyAccess(err))
	}
	if !linked {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("put %s: rewind %s: %w", path, f.Name(), err)
		}
		return s.Put(ctx, key, f, size)
	}
	return syncDir(filepath.Dir(path))
}

// linkFile hard-links src to path through a temp name. linked is false,
// with no error, when src cannot be linked there (another filesystem, a
// filesystem without hard links): the caller copies instead.
func (s *Store) linkFile(src, path string) (linked bool, err error) {
	s.dirs.RLock() // until the new name is in place: Delete prunes empty dirs
	defer s.dirs.RUnlock()
	dir := filepath.Dir(path)
	if err := s.mkdirAll(dir); err != nil {
		return false, err
	}
	tmp, err := s.linkTemp(src, dir)
	if err != nil {
		return false, nil
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return false, err
	}
	return true, nil
}
