package file_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/storage/storagetest"
)

func newStore(t *testing.T) *file.Store {
	t.Helper()
	s, err := file.New(filepath.Join(t.TempDir(), "root"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFileStore_Contract(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s := newStore(t)
		t.Cleanup(func() { assertNoTempFiles(t, s.Root()) })
		return s
	})
}

// assertNoTempFiles fails if any ".acode-tmp-" file survived: every Put,
// failed or not, must clean up after itself.
func assertNoTempFiles(t *testing.T, root string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".acode-tmp-") {
			t.Errorf("temp file left behind: %s", path)
		}
		return nil
	})
}

func TestFileStore_ObjectsArePlainFilesUnderRoot(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	data := []byte("parquet bytes")
	key := "bronze/acode/cog_dt_ingestion=2025-08-07/part.parquet"
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Root(), "bronze", "acode", "cog_dt_ingestion=2025-08-07", "part.parquet")
	if s.Location(key) != path {
		t.Errorf("Location = %q; want %q", s.Location(key), path)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file %s = %q, %v; want %q", path, got, err, data)
	}
}

func TestFileStore_ListSkipsTempFilesAndEmptyDirs(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if err := s.Put(t.Context(), "p/a", strings.NewReader("a"), 1); err != nil {
		t.Fatal(err)
	}
	// Leftovers of a crashed writer and an empty directory.
	if err := os.WriteFile(filepath.Join(s.Root(), "p", ".acode-tmp-123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s.Root(), "p", "empty", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.List(t.Context(), "", func(o storage.ObjectInfo) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "p/a" {
		t.Fatalf("List = %q; want [p/a]", keys)
	}
}

func TestFileStore_DeleteRemovesEmptyParentsButNotRoot(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	for _, k := range []string{"x/day=1/a", "x/day=1/b", "x/day=2/c"} {
		if err := s.Put(t.Context(), k, strings.NewReader(k), int64(len(k))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(t.Context(), "x/day=1/a", "x/day=1/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "x", "day=1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("emptied partition dir still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "x", "day=2", "c")); err != nil {
		t.Errorf("sibling partition lost: %v", err)
	}
	if err := s.Delete(t.Context(), "x/day=2/c"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(s.Root()); err != nil || !fi.IsDir() {
		t.Fatalf("root removed by Delete: %v", err)
	}
	if des, _ := os.ReadDir(s.Root()); len(des) != 0 {
		t.Errorf("root not empty after deleting everything: %v", des)
	}
}

func TestFileStore_CopyHardLinksOnSameFilesystem(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if err := s.Put(t.Context(), "src", strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}
	if err := s.Copy(t.Context(), "src", "dst/copy"); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(s.Location("src"))
	b, _ := os.Stat(s.Location("dst/copy"))
	if !os.SameFile(a, b) {
		t.Errorf("Copy on one filesystem did not hard-link")
	}
}

func TestFileStore_PermissionDeniedIsErrAccessDenied(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root ignores permission bits; TestClassify covers the mapping")
	}
	s := newStore(t)
	if err := s.Put(t.Context(), "ro/a", strings.NewReader("a"), 1); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.Root(), "ro")
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	err := s.Put(t.Context(), "ro/b", strings.NewReader("b"), 1)
	if !errors.Is(err, storage.ErrAccessDenied) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Put into read-only dir = %v; want ErrAccessDenied naming %s", err, dir)
	}
}

func TestFileStore_PutUnderAFileFails(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if err := s.Put(t.Context(), "a", strings.NewReader("a"), 1); err != nil {
		t.Fatal(err)
	}
	err := s.Put(t.Context(), "a/b", strings.NewReader("b"), 1)
	if err == nil || errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Put(a/b) where a is a file = %v; want a clear non-NotExist error", err)
	}
}

func TestFileStore_CleanIncompleteRemovesOnlyOldTempFiles(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if err := s.Put(t.Context(), "day=1/part", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.Root(), "day=1")
	old, fresh := filepath.Join(dir, ".acode-tmp-old"), filepath.Join(dir, ".acode-tmp-fresh")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	n, err := s.CleanIncomplete(t.Context(), "day=1/", time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("CleanIncomplete = %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old temp file still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file (maybe in flight) removed: %v", err)
	}
	if _, err := os.Stat(s.Location("day=1/part")); err != nil {
		t.Errorf("committed object removed: %v", err)
	}
}

// A sync's finished part on the same filesystem is linked in, not copied:
// the stored object is the spool file's inode, and it survives the spool
// file's removal.
func TestFileStore_PutFileHardLinksOnSameFilesystem(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	f, err := os.CreateTemp(t.TempDir(), "part-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("parquet bytes"); err != nil {
		t.Fatal(err)
	}
	if err := storage.PutFile(t.Context(), s, "staging/part-1", f, 13); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(f.Name())
	b, _ := os.Stat(s.Location("staging/part-1"))
	if !os.SameFile(a, b) {
		t.Errorf("PutFile on one filesystem did not hard-link")
	}
	os.Remove(f.Name())
	if got, err := os.ReadFile(s.Location("staging/part-1")); err != nil || string(got) != "parquet bytes" {
		t.Errorf("stored part after the spool file's removal = %q, %v", got, err)
	}
	assertNoTempFiles(t, s.Location(""))
}
