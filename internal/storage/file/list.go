package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/acode-dev/acode/internal/storage"
)

// List walks the directory tree under prefix depth-first, visiting each
// directory's entries sorted as keys sort (a directory "a" as "a/"), which
// yields exactly S3's lexical key order without collecting every key first.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.ObjectInfo) error) error {
	if err := storage.ValidatePrefix(prefix); err != nil {
		return err
	}
	// Start at the deepest directory the prefix names in full.
	dir := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
	}
	err := s.walk(ctx, dir, prefix, fn)
	if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return nil // nothing under a missing directory
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", s.Location(prefix), err)
	}
	return nil
}

type entry struct {
	sortKey string // name, or name+"/" for a directory
	name    string
	dir     bool
}

// walk visits the directory with key dirKey ("" for the root).
func (s *Store) walk(ctx context.Context, dirKey, prefix string, fn func(storage.ObjectInfo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	des, err := os.ReadDir(filepath.Join(s.root, filepath.FromSlash(dirKey)))
	if err != nil {
		if dirKey != "" && (errors.Is(err, fs.ErrNotExist) || isNotDir(err)) {
			return nil // removed while we walked: nothing to list
		}
		return classify(err)
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tempPrefix) {
			continue
		}
		if de.IsDir() {
			entries = append(entries, entry{sortKey: name + "/", name: name, dir: true})
		} else if de.Type().IsRegular() {
			entries = append(entries, entry{sortKey: name, name: name})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].sortKey < entries[j].sortKey })
	for _, e := range entries {
		key := path.Join(dirKey, e.name)
		if e.dir {
			// Descend only where keys can still match the prefix.
			k := key + "/"
			if strings.HasPrefix(k, prefix) || strings.HasPrefix(prefix, k) {
				if err := s.walk(ctx, key, prefix, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		if err := s.visit(ctx, key, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) visit(ctx context.Context, key string, fn func(storage.ObjectInfo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(s.Location(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted while we walked
	}
	if err != nil {
		return classify(err)
	}
	return fn(storage.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
}
