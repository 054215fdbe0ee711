package storagetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/storage"
)

func bytesReader(s string) io.Reader { return strings.NewReader(s) }

// failingReader yields data, then fails with err instead of io.EOF.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func testCopy(t *testing.T, s storage.Store) {
	v1 := randomBytes(3*mib+1, 1)
	put(t, s, "cp/src", v1)
	if err := s.Copy(t.Context(), "cp/src", "cp/other/dst"); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	wantContent(t, s, "cp/other/dst", v1)
	wantContent(t, s, "cp/src", v1)
	// Overwriting the source must not reach the copy.
	put(t, s, "cp/src", []byte("v2"))
	wantContent(t, s, "cp/other/dst", v1)
	// Copy onto an existing object replaces it.
	if err := s.Copy(t.Context(), "cp/src", "cp/other/dst"); err != nil {
		t.Fatalf("Copy over existing: %v", err)
	}
	wantContent(t, s, "cp/other/dst", []byte("v2"))
	if err := s.Copy(t.Context(), "cp/src", "cp/src"); err != nil {
		t.Fatalf("Copy onto itself: %v", err)
	}
	wantContent(t, s, "cp/src", []byte("v2"))
	if err := s.Copy(t.Context(), "cp/missing", "cp/x"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Copy of missing source = %v; want ErrNotExist", err)
	}
	wantMissing(t, s, "cp/x")
}

func testFailedPut(t *testing.T, s storage.Store) {
	boom := errors.New("reader broke")
	// A new key: nothing may appear.
	err := s.Put(t.Context(), "fail/new", &failingReader{r: bytes.NewReader(randomBytes(1024, 1)), err: boom}, -1)
	if !errors.Is(err, boom) {
		t.Fatalf("Put with failing reader = %v; want the reader's error in the chain", err)
	}
	wantMissing(t, s, "fail/new")
	// An existing key, failing past 16 MiB so S3 is inside a multipart upload:
	// the old object must survive whole.
	old := []byte("the committed version")
	put(t, s, "fail/old", old)
	big := randomBytes(18*mib, 2)
	err = s.Put(t.Context(), "fail/old", &failingReader{r: bytes.NewReader(big), err: boom}, int64(len(big)+1))
	if !errors.Is(err, boom) {
		t.Fatalf("Put with failing reader = %v; want the reader's error in the chain", err)
	}
	wantContent(t, s, "fail/old", old)
	if got := listKeys(t, s, ""); len(got) != 1 || got[0] != "fail/old" {
		t.Fatalf("after failed Puts, List = %q; want [fail/old]", got)
	}
}

func testSizeMismatch(t *testing.T, s storage.Store) {
	err := s.Put(t.Context(), "sz/short", strings.NewReader("12345"), 10)
	if !errors.Is(err, storage.ErrSizeMismatch) {
		t.Errorf("Put of 5 bytes announced as 10 = %v; want ErrSizeMismatch", err)
	}
	err = s.Put(t.Context(), "sz/long", strings.NewReader("1234567890"), 5)
	if !errors.Is(err, storage.ErrSizeMismatch) {
		t.Errorf("Put of 10 bytes announced as 5 = %v; want ErrSizeMismatch", err)
	}
	wantMissing(t, s, "sz/short")
	wantMissing(t, s, "sz/long")
}

// testConcurrentPuts: readers only ever see one writer's whole object.
func testConcurrentPuts(t *testing.T, s storage.Store) {
	const writers, size = 6, 256 << 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('A' + i)}, size)
			errs <- s.Put(t.Context(), "cc/k", bytes.NewReader(data), size)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Put: %v", err)
		}
	}
	got := read(t, s, "cc/k")
	if len(got) != size || !bytes.Equal(got, bytes.Repeat(got[:1], size)) {
		t.Fatalf("after concurrent Puts: %d bytes, mixed content; want %d bytes from one writer", len(got), size)
	}
}

func testCancelled(t *testing.T, s storage.Store) {
	put(t, s, "cx/k", []byte("x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Put(ctx, "cx/new", strings.NewReader("x"), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with cancelled ctx = %v; want context.Canceled", err)
	}
	if _, err := s.Open(ctx, "cx/k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with cancelled ctx = %v; want context.Canceled", err)
	}
	if _, err := s.Stat(ctx, "cx/k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with cancelled ctx = %v; want context.Canceled", err)
	}
	if err := s.List(ctx, "", func(storage.ObjectInfo) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("List with cancelled ctx = %v; want context.Canceled", err)
	}
	if err := s.Delete(ctx, "cx/k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with cancelled ctx = %v; want context.Canceled", err)
	}
	if err := s.Copy(ctx, "cx/k", "cx/copy"); !errors.Is(err, context.Canceled) {
		t.Errorf("Copy with cancelled ctx = %v; want context.Canceled", err)
	}
	wantMissing(t, s, "cx/new")
	wantMissing(t, s, "cx/copy")
	wantContent(t, s, "cx/k", []byte("x"))
}

// cancellingReader cancels its context once it has yielded after bytes,
// then keeps yielding data like a producer that has not noticed yet.
type cancellingReader struct {
	r      io.Reader
	after  int
	n      int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}

func testCancelMidPut(t *testing.T, s storage.Store) {
	old := []byte("committed")
	put(t, s, "cm/k", old)
	for _, size := range []int{2 * mib, 40 * mib} {
		ctx, cancel := context.WithCancel(t.Context())
		data := randomBytes(size, 3)
		r := &cancellingReader{r: bytes.NewReader(data), after: size / 2, cancel: cancel}
		err := s.Put(ctx, "cm/k", r, int64(size))
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put of %d bytes cancelled midway = %v; want context.Canceled", size, err)
		}
		wantContent(t, s, "cm/k", old)
	}
}

func testPingAndLocation(t *testing.T, s storage.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping on a fresh store: %v", err)
	}
	if loc := s.Location("a/b/c.parquet"); !strings.HasSuffix(loc, "a/b/c.parquet") {
		t.Errorf("Location(a/b/c.parquet) = %q; want it to end with the key", loc)
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Errorf("Ping left objects behind: %q", got)
	}
}

// testPutFile: a finished local file stored through storage.PutFile (a
// hard link on the file backend, a Put elsewhere) reads back whole, stays
// whole when the local file is removed, and a wrong size stores nothing.
func testPutFile(t *testing.T, s storage.Store) {
	data := randomBytes(2*mib+3, 7)
	f, err := os.CreateTemp(t.TempDir(), "part-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := storage.PutFile(t.Context(), s, "pf/part.parquet", f, int64(len(data))); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s, "pf/part.parquet", data)
	if err := storage.PutFile(t.Context(), s, "pf/wrong-size", f, int64(len(data)+1)); !errors.Is(err, storage.ErrSizeMismatch) {
		t.Errorf("PutFile with a wrong size = %v; want ErrSizeMismatch", err)
	}
	wantMissing(t, s, "pf/wrong-size")
}
