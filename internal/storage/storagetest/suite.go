// Package storagetest is the acceptance suite every storage.Store backend
// must pass: the Store contract written as tests. Backends call Run from
// their own _test.go files with a constructor for fresh, empty stores.
package storagetest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/storage"
)

// Run runs every contract test against stores made by newStore, which must
// return a fresh, empty store on each call (a new directory, a new bucket).
// Subtests run in parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"RoundTripSizes", testRoundTripSizes},
		{"OverwriteReplacesContent", testOverwrite},
		{"MissingObjectIsErrNotExist", testMissing},
		{"InvalidKeysRejected", testInvalidKeys},
		{"ListOrderAndPrefix", testListOrderAndPrefix},
		{"ListStopsOnCallbackError", testListStops},
		{"ListAndDeleteManyPages", testManyPages},
		{"DeleteMissingIsNotError", testDeleteMissing},
		{"CopyIsIndependentOfSource", testCopy},
		{"FailedPutLeavesNothing", testFailedPut},
		{"SizeMismatchLeavesNothing", testSizeMismatch},
		{"ConcurrentPutsNeverMix", testConcurrentPuts},
		{"CancelledContext", testCancelled},
		{"CancelMidPutLeavesOldObject", testCancelMidPut},
		{"PingAndLocation", testPingAndLocation},
		{"PutFileOfLocalFile", testPutFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

const mib = 1 << 20

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	_, _ = r.Read(b)
	return b
}

func put(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func read(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

func wantContent(t *testing.T, s storage.Store, key string, want []byte) {
	t.Helper()
	got := read(t, s, key)
	if !bytes.Equal(got, want) {
		t.Fatalf("content of %q: got %d bytes (prefix %q), want %d bytes (prefix %q)",
			key, len(got), head(got), len(want), head(want))
	}
}

func wantMissing(t *testing.T, s storage.Store, key string) {
	t.Helper()
	if info, err := s.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Stat(%q) = %+v, %v; want ErrNotExist", key, info, err)
	}
}

func listKeys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := s.List(t.Context(), prefix, func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func testRoundTripSizes(t *testing.T, s storage.Store) {
	for i, n := range []int{0, 1, 1000, 20 * mib} {
		data := randomBytes(n, uint64(i))
		key := "rt/size/" + string(rune('a'+i)) + ".bin"
		before := time.Now()
		put(t, s, key, data)
		wantContent(t, s, key, data)
		info, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if info.Key != key || info.Size != int64(n) {
			t.Errorf("Stat(%q) = key %q size %d; want size %d", key, info.Key, info.Size, n)
		}
		// Allow clock skew and whole-second server timestamps.
		if info.ModTime.Before(before.Add(-time.Minute)) || info.ModTime.After(time.Now().Add(time.Minute)) {
			t.Errorf("Stat(%q).ModTime = %v; want about %v", key, info.ModTime, before)
		}
	}
	// Unknown size (-1), large enough to need several parts on S3.
	data := randomBytes(20*mib+7, 99)
	if err := s.Put(t.Context(), "rt/unknown", io.MultiReader(bytes.NewReader(data)), -1); err != nil {
		t.Fatalf("Put with size -1: %v", err)
	}
	wantContent(t, s, "rt/unknown", data)
}

func testOverwrite(t *testing.T, s storage.Store) {
	put(t, s, "ow/k", []byte("first version, longer"))
	put(t, s, "ow/k", []byte("v2"))
	wantContent(t, s, "ow/k", []byte("v2"))
	info, err := s.Stat(t.Context(), "ow/k")
	if err != nil || info.Size != 2 {
		t.Fatalf("Stat after overwrite = %+v, %v; want size 2", info, err)
	}
	if keys := listKeys(t, s, "ow/"); len(keys) != 1 {
		t.Fatalf("List after overwrite = %q; want one key", keys)
	}
}

func testMissing(t *testing.T, s storage.Store) {
	put(t, s, "dir/x", []byte("x"))
	for _, key := range []string{"nope", "dir/nope", "deep/er/nope", "dir", "dir/x/under-a-file"} {
		if _, err := s.Open(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Open(%q) error = %v; want ErrNotExist", key, err)
		}
		wantMissing(t, s, key)
	}
}

func testInvalidKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for _, key := range []string{"", "/abs", "a/../b", "..", "a//b", "a/", "./a", "a/."} {
		checks := map[string]error{
			"Put":  s.Put(ctx, key, bytes.NewReader([]byte("x")), 1),
			"Stat": func() error { _, err := s.Stat(ctx, key); return err }(),
			"Open": func() error { _, err := s.Open(ctx, key); return err }(),
			"Del":  s.Delete(ctx, "ok", key),
			"Cp1":  s.Copy(ctx, key, "ok"),
			"Cp2":  s.Copy(ctx, "ok", key),
		}
		for op, err := range checks {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("%s(%q) error = %v; want ErrInvalidKey", op, key, err)
			}
		}
	}
	for _, prefix := range []string{"/abs", "../", "a/../", "a//"} {
		err := s.List(ctx, prefix, func(storage.ObjectInfo) error { return nil })
		if !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("List(%q) error = %v; want ErrInvalidKey", prefix, err)
		}
	}
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("rejected calls stored %q", keys)
	}
}
