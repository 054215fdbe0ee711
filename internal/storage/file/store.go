// Package file is the local-directory storage backend, used when a
// destination has destination_path. Objects are plain files at
// <root>/<key>, so DuckDB or Spark can read the bronze layout in place.
//
// Put never writes in place: it writes a temp file (".acode-tmp-*") next to
// the target, fsyncs it, renames it over the target and fsyncs the directory,
// so a crash leaves either the old file or the new one. List ignores temp
// files; a key cannot be both a file and a directory (S3 allows "a" and
// "a/b" together; here the second Put fails).
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/acode-dev/acode/internal/storage"
)

// tempPrefix starts the name of every in-flight file; List skips them and a
// cleaner may delete old ones.
const tempPrefix = ".acode-tmp-"

// Store is a storage.Store rooted at a local directory.
type Store struct {
	root string
	// dirs orders directory creation against pruning: a writer holds it
	// shared from creating a directory until its file is in it, Delete holds
	// it exclusively while it removes emptied directories, so a prune never
	// removes a directory a concurrent Put or Copy is about to fill.
	dirs *sync.RWMutex
}

var _ storage.Store = (*Store)(nil)

// New returns a Store rooted at dir (made absolute). The directory is
// created on the first Put or Ping, not here, so building a Store has no
// side effects.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("file store: empty root directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("file store root %q: %w", dir, err)
	}
	return &Store{root: abs, dirs: &sync.RWMutex{}}, nil
}

// Root is the absolute directory the store writes under.
func (s *Store) Root() string { return s.root }

// Location returns the absolute path of key's file.
func (s *Store) Location(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// Put writes r to a temp file beside the target, fsyncs it, renames it into
// place and fsyncs the directory.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", s.Location(key), err)
	}
	path := s.Location(key)
	s.dirs.RLock() // until the temp file is in the directory
	tmp, err := s.createTemp(filepath.Dir(path))
	s.dirs.RUnlock()
	if err != nil {
		// ENOTDIR here means a key prefix is a file; not ErrNotExist.
		return fmt.Errorf("put %s: %w", path, classifyAccess(err))
	}
	if err := fillTemp(ctx, tmp, storage.GuardReader(ctx, r, size)); err != nil {
		return fmt.Errorf("put %s: %w", path, classifyAccess(err))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", path, classifyAccess(err))
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("put %s: %w", path, err)
	}
	return nil
}

// createTemp creates an empty temp file in dir, creating dir first. It
// retries when a concurrent Delete prunes a just-emptied directory while
// the path is being created (either inside MkdirAll or between the two
// steps): that race shows as ErrNotExist. Callers hold s.dirs shared.
func (s *Store) createTemp(dir string) (*os.File, error) {
	var err error
	for range 10 {
		if err = s.mkdirAll(dir); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		var f *os.File
		if f, err = os.CreateTemp(dir, tempPrefix+"*"); err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

// fillTemp copies r into f, fsyncs and closes it; on any failure f is
// removed, so a failed Put leaves nothing behind.
func fillTemp(ctx context.Context, f *os.File, r io.Reader) (err error) {
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = io.Copy(f, r); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// writeTemp writes r to a new fsynced temp file in dir and returns its path.
func (s *Store) writeTemp(ctx context.Context, dir string, r io.Reader) (string, error) {
	f, err := s.createTemp(dir)
	if err != nil {
		return "", err
	}
	if err := fillTemp(ctx, f, r); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// Open opens key's file for reading.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	path := s.Location(key)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, classify(err))
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open %s: %w", path, classify(err))
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("open %s: not a regular file: %w", path, storage.ErrNotExist)
	}
	return f, nil
}

// Stat describes key's file; directories are not objects.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.ObjectInfo{}, err
	}
	path := s.Location(key)
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %s: %w", path, classify(err))
	}
	if !fi.Mode().IsRegular() {
		return storage.ObjectInfo{}, fmt.Errorf("stat %s: not a regular file: %w", path, storage.ErrNotExist)
	}
	return storage.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Ping creates the root if needed and proves it is writable with a
// temp file that is removed at once.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping %s: %w", s.root, err)
	}
	tmp, err := s.writeTemp(ctx, s.root, strings.NewReader("ping"))
	if err != nil {
		return fmt.Errorf("ping %s: write test file: %w", s.root, classify(err))
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("ping %s: %w", s.root, classify(err))
	}
	return nil
}

// classifyAccess adds ErrAccessDenied to permission errors only.
func classifyAccess(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: %w", storage.ErrAccessDenied, err)
	}
	return err
}

// classify adds the storage sentinel matching an OS error, keeping the
// original (with its path) in the chain.
func classify(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), isNotDir(err):
		return fmt.Errorf("%w: %w", storage.ErrNotExist, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", storage.ErrAccessDenied, err)
	}
	return err
}
