package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/s3"
	"github.com/acode-dev/acode/internal/testenv"
)

// growingFile is a storage.Growing like a sync's spool file: a writer
// appends to it while the upload reads what is written so far.
type growingFile struct {
	f   *os.File
	off int64

	mu      sync.Mutex
	more    *sync.Cond
	written int64
	done    bool
	err     error
	// onWait, when set, is called (under mu) when Written is about to
	// wait for byte n.
	onWait func(n int64)
}

func newGrowingFile(t *testing.T) *growingFile {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	g := &growingFile{f: f}
	g.more = sync.NewCond(&g.mu)
	return g
}

// write appends b in chunks of chunk bytes, then finishes with end (nil:
// complete), from a goroutine the test waits for.
func (g *growingFile) write(t *testing.T, b []byte, chunk int, end error) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.append(t, b, chunk)
		g.mu.Lock()
		g.done, g.err = true, end
		g.mu.Unlock()
		g.more.Broadcast()
	}()
	return &wg
}

// append writes b in chunks of chunk bytes without finishing the file.
func (g *growingFile) append(t *testing.T, b []byte, chunk int) {
	for len(b) > 0 {
		n := min(chunk, len(b))
		if _, err := g.f.Write(b[:n]); err != nil {
			t.Error(err)
			return
		}
		b = b[n:]
		g.mu.Lock()
		g.written += int64(n)
		g.mu.Unlock()
		g.more.Broadcast()
	}
}

func (g *growingFile) Written(ctx context.Context, n int64) (int64, bool, error) {
	stop := context.AfterFunc(ctx, func() {
		g.mu.Lock()
		g.mu.Unlock() //nolint:staticcheck // orders the wake-up after the waiter's check
		g.more.Broadcast()
	})
	defer stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.written < n && !g.done && g.onWait != nil {
		g.onWait(n)
	}
	for g.written < n && !g.done && ctx.Err() == nil {
		g.more.Wait()
	}
	if g.err != nil {
		return g.written, g.done, g.err
	}
	if g.written < n && !g.done {
		return g.written, false, ctx.Err()
	}
	return g.written, g.done, nil
}

func (g *growingFile) ReadAt(p []byte, off int64) (int, error) { return g.f.ReadAt(p, off) }

// Read is the stream other stores read; the S3 store must not use it.
func (g *growingFile) Read([]byte) (int, error) {
	return 0, errors.New("the S3 store read a growing file as a stream")
}

// A file body, still being written or finished, lands byte-equal as a
// multipart upload of the part size (a small one as one PUT) whose parts
// carry a CRC32 checksum, through Put and PutDeferred alike, at part
// boundaries and off them.
func TestS3Store_FileBodiesAreUploadedFromTheFile(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	for _, size := range []int{0, 100 << 10, 10 << 20, 12<<20 + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			bucket := srv.NewBucket(t)
			ht := &headerTransport{}
			cfg := config(srv, bucket)
			cfg.HTTPClient = &http.Client{Transport: ht}
			cfg.PartSizeBytes = 5 << 20
			s := newStore(t, cfg)
			data := body(size, byte(size))
			wantParts := max(1, (size+5<<20-1)/(5<<20))

			g := newGrowingFile(t)
			wg := g.write(t, data, 300<<10, nil)
			if err := s.Put(t.Context(), "put/growing", g, -1); err != nil {
				t.Fatalf("Put of a growing file: %v", err)
			}
			wg.Wait()
			wantOnDisk(t, srv, bucket, "put/growing", data)
			wantETagParts(t, s, "put/growing", size, wantParts)

			g = newGrowingFile(t)
			wg = g.write(t, data, 1<<20, nil)
			p, err := s.PutDeferred(t.Context(), "deferred/growing", g, -1)
			if err != nil {
				t.Fatalf("PutDeferred of a growing file: %v", err)
			}
			wg.Wait()
			assertInvisible(t, s, "deferred/growing")
			if err := s.CompleteDeferred(t.Context(), p); err != nil {
				t.Fatalf("CompleteDeferred: %v", err)
			}
			wantOnDisk(t, srv, bucket, "deferred/growing", data)

			f, err := os.Open(g.f.Name())
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := storage.PutFile(t.Context(), s, "put/file", f, int64(size)); err != nil {
				t.Fatalf("PutFile: %v", err)
			}
			wantOnDisk(t, srv, bucket, "put/file", data)
			wantETagParts(t, s, "put/file", size, wantParts)

			for i, h := range ht.puts {
				if h.Get("X-Amz-Checksum-Crc32") == "" {
					t.Errorf("PUT %d carries no CRC32 checksum", i)
				}
			}
			assertNoPendingUploads(t, srv, bucket)
		})
	}
}

// wantETagParts checks that key is a multipart object of parts parts, or
// a single PUT when size is below the 5 MiB part size.
func wantETagParts(t *testing.T, s *s3.Store, key string, size, parts int) {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	multipart := strings.Contains(info.ETag, "-")
	switch {
	case size < 5<<20 && multipart:
		t.Errorf("%s of %d bytes has ETag %q; want a single PUT's", key, size, info.ETag)
	case size >= 5<<20 && !strings.HasSuffix(info.ETag, fmt.Sprintf("-%d", parts)):
		t.Errorf("%s of %d bytes has ETag %q; want a multipart upload of %d parts", key, size, info.ETag, parts)
	}
}

// A file body that is given up, whose context ends while the upload waits
// for its bytes, whose parts are refused, or that is not the size
// announced leaves nothing: no object, no open multipart upload.
func TestS3Store_AFailedFileUploadLeavesNothing(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	errGaveUp := errors.New("part discarded")
	cases := []struct {
		name   string
		refuse bool
		put    func(t *testing.T, s *s3.Store, deferred bool) error
		want   error
	}{
		{"given up after 12 MiB", false, func(t *testing.T, s *s3.Store, deferred bool) error {
			g := newGrowingFile(t)
			defer g.write(t, body(12<<20, 1), 1<<20, errGaveUp).Wait()
			return put(t.Context(), s, g, -1, deferred)
		}, errGaveUp},
		{"cancelled while waiting for bytes", false, func(t *testing.T, s *s3.Store, deferred bool) error {
			g := newGrowingFile(t)
			g.append(t, body(7<<20, 2), 1<<20) // then the writer stalls
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			g.onWait = func(n int64) {
				if n > 7<<20 {
					cancel() // the upload waits for the second part's bytes
				}
			}
			return put(ctx, s, g, -1, deferred)
		}, context.Canceled},
		{"parts refused", true, func(t *testing.T, s *s3.Store, deferred bool) error {
			g := newGrowingFile(t)
			defer g.write(t, body(12<<20, 3), 1<<20, nil).Wait()
			return put(t.Context(), s, g, -1, deferred)
		}, nil},
		{"file shorter than announced", false, func(t *testing.T, s *s3.Store, deferred bool) error {
			return put(t.Context(), s, tempFile(t, body(6<<20, 4)), 7<<20, deferred)
		}, storage.ErrSizeMismatch},
	}
	for _, tc := range cases {
		for _, deferred := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deferred=%v", tc.name, deferred), func(t *testing.T) {
				t.Parallel()
				bucket := srv.NewBucket(t)
				cfg := config(srv, bucket)
				cfg.PartSizeBytes = 5 << 20
				ft := &refusePartsTransport{}
				if tc.refuse {
					cfg.HTTPClient = &http.Client{Transport: ft}
				}
				s := newStore(t, cfg)
				err := tc.put(t, s, deferred)
				if tc.want != nil && !errors.Is(err, tc.want) || err == nil {
					t.Fatalf("upload = %v; want an error wrapping %v", err, tc.want)
				}
				if tc.refuse && ft.refused.Load() == 0 {
					t.Fatal("no part was refused")
				}
				assertInvisible(t, s, "k")
				assertNoPendingUploads(t, srv, bucket)
			})
		}
	}
}

func put(ctx context.Context, s *s3.Store, r io.Reader, size int64, deferred bool) error {
	if deferred {
		_, err := s.PutDeferred(ctx, "k", r, size)
		return err
	}
	return s.Put(ctx, "k", r, size)
}

func tempFile(t *testing.T, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Uploading a file does not copy its parts into memory: a 48 MiB upload
// in 8 MiB parts allocates a few MiB in all (request buffers), where
// reading the parts into buffers takes at least one part per part in
// flight. This is the S3 share of a sync's peak RSS (the spool file is
// already on disk). Not parallel: it counts the whole process's
// allocations.
func TestS3Store_AFileUploadDoesNotBufferItsParts(t *testing.T) {
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	s := newStore(t, config(srv, bucket)) // 8 MiB parts, 2 at a time
	data := body(48<<20, 5)
	f := tempFile(t, data)
	g := newGrowingFile(t)
	wg := g.write(t, data, 256<<10, nil)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := s.Put(t.Context(), "file", f, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutDeferred(t.Context(), "growing", g, -1); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	wg.Wait()
	const bound = 8 << 20 // one 8 MiB part buffer is over it
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("uploading 2 x 48 MiB from files allocated %.2f MiB", float64(got)/(1<<20))
	if got > bound {
		t.Errorf("uploading 2 x 48 MiB from files allocated %.1f MiB; want under %d MiB (no part copied into memory)",
			float64(got)/(1<<20), bound>>20)
	}
	wantOnDisk(t, srv, bucket, "file", data)
}
