package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/storage"
)

var _ storage.Janitor = (*Store)(nil)

// CleanIncomplete removes ".acode-tmp-" files older than olderThan left by
// Puts that died before their rename, in the directories that hold keys
// under prefix.
func (s *Store) CleanIncomplete(ctx context.Context, prefix string, olderThan time.Duration) (int, error) {
	if err := storage.ValidatePrefix(prefix); err != nil {
		return 0, err
	}
	start := s.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = s.Location(prefix[:i])
	}
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return nil // vanished, or possibly still being written
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		s.removeEmptyParents(filepath.Dir(path))
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("clean temp files under %s: %w", start, classify(err))
	}
	return removed, nil
}
