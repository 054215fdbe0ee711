package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/storage"
)

func testListOrderAndPrefix(t *testing.T, s storage.Store) {
	// Chosen so directory order differs from key order: '-' < '.' < '/' < 'c'.
	keys := []string{"a/b/1", "a/b/2/x", "a/bc/1", "a/b.txt", "a/b-", "a/a", "a0", "b", "a/b/10"}
	for i, k := range keys {
		put(t, s, k, randomBytes(i+1, uint64(i)))
	}
	sorted := slices.Sorted(slices.Values(keys))
	cases := map[string][]string{
		"":       sorted,
		"a/b/":   {"a/b/1", "a/b/10", "a/b/2/x"},
		"a/b":    {"a/b-", "a/b.txt", "a/b/1", "a/b/10", "a/b/2/x", "a/bc/1"},
		"a/b/1":  {"a/b/1", "a/b/10"},
		"a/b/2":  {"a/b/2/x"},
		"a":      {"a/a", "a/b-", "a/b.txt", "a/b/1", "a/b/10", "a/b/2/x", "a/bc/1", "a0"},
		"zzz/":   {},
		"a/b/2/": {"a/b/2/x"},
	}
	for prefix, want := range cases {
		if got := listKeys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q; want %q", prefix, got, want)
		}
	}
	// Sizes come with the listing.
	err := s.List(t.Context(), "", func(o storage.ObjectInfo) error {
		if i := slices.Index(keys, o.Key); o.Size != int64(i+1) {
			return fmt.Errorf("list: %q has size %d, want %d", o.Key, o.Size, i+1)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func testListStops(t *testing.T, s storage.Store) {
	for _, k := range []string{"s/1", "s/2", "s/3"} {
		put(t, s, k, []byte(k))
	}
	stop := errors.New("stop here")
	var seen []string
	err := s.List(t.Context(), "s/", func(o storage.ObjectInfo) error {
		seen = append(seen, o.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("List error = %v; want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"s/1", "s/2"}) {
		t.Fatalf("List visited %q after the callback failed; want [s/1 s/2]", seen)
	}
}

// testManyPages goes past S3's 1000-key page and DeleteObjects' 1000-key
// batch limit.
func testManyPages(t *testing.T, s storage.Store) {
	const n = 1005
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("page/%02d/%04d", i%7, i)
	}
	putAll(t, s, keys)
	want := slices.Sorted(slices.Values(keys))
	if got := listKeys(t, s, "page/"); !slices.Equal(got, want) {
		t.Fatalf("List(page/) returned %d keys (first %q); want %d in order", len(got), got[:min(3, len(got))], n)
	}
	// Delete them all in one call, with some missing keys mixed in.
	if err := s.Delete(t.Context(), append(keys, "page/missing", "nope/x")...); err != nil {
		t.Fatalf("Delete %d keys: %v", n+2, err)
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Fatalf("after Delete, List = %d keys (first %q); want none", len(got), got[0])
	}
}

// putAll stores a small object per key with a few concurrent writers.
func putAll(t *testing.T, s storage.Store, keys []string) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		once sync.Once
		ferr error
		ch   = make(chan string)
	)
	for range 8 {
		wg.Go(func() {
			for k := range ch {
				if err := s.Put(t.Context(), k, bytesReader(k), int64(len(k))); err != nil {
					once.Do(func() { ferr = fmt.Errorf("Put(%q): %w", k, err) })
				}
			}
		})
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
	if ferr != nil {
		t.Fatal(ferr)
	}
}

func testDeleteMissing(t *testing.T, s storage.Store) {
	if err := s.Delete(t.Context()); err != nil {
		t.Errorf("Delete() = %v", err)
	}
	if err := s.Delete(t.Context(), "nope", "x/y/z"); err != nil {
		t.Errorf("Delete of missing keys = %v; want nil", err)
	}
	put(t, s, "d/keep", []byte("keep"))
	put(t, s, "d/drop", []byte("drop"))
	if err := s.Delete(t.Context(), "d/drop", "d/drop"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := listKeys(t, s, ""); !slices.Equal(got, []string{"d/keep"}) {
		t.Fatalf("after Delete, List = %q; want [d/keep]", got)
	}
}
