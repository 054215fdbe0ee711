package file

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The byte-copy fallback runs when src and dst are on different
// filesystems, which a test cannot arrange portably: call it directly.
func TestCopyTemp_FallbackCopiesBytes(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("fiscal"), 100000)
	if err := s.Put(t.Context(), "src", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	tmp, err := s.copyTemp(t.Context(), "src", s.Root())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(tmp), tempPrefix) {
		t.Errorf("copy target %s is not a temp name", tmp)
	}
	got, err := os.ReadFile(tmp)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copied %d bytes, %v; want %d", len(got), err, len(data))
	}
	a, _ := os.Stat(tmp)
	b, _ := os.Stat(s.Location("src"))
	if os.SameFile(a, b) {
		t.Error("fallback produced a hard link, not a copy")
	}
}
