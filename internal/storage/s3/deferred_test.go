package s3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/s3"
	"github.com/acode-dev/acode/internal/testenv"
)

// deferredStore is a Store on a fresh bucket with 5 MiB parts, so a 20 MiB
// body is a 4-part upload.
func deferredStore(t *testing.T, srv *testenv.S3Server) (*s3.Store, string) {
	t.Helper()
	bucket := srv.NewBucket(t)
	cfg := config(srv, bucket)
	cfg.PartSizeBytes = 5 << 20
	return newStore(t, cfg), bucket
}

// body is n bytes that differ from position to position and from seed to
// seed, so a reordered part or another upload's object fails a comparison.
func body(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/7) ^ byte(i>>13) ^ seed
	}
	return b
}

func listDeferred(t *testing.T, s *s3.Store, prefix string) []storage.Pending {
	t.Helper()
	var got []storage.Pending
	if err := s.ListDeferred(t.Context(), prefix, func(p storage.Pending) error {
		got = append(got, p)
		return nil
	}); err != nil {
		t.Fatalf("ListDeferred(%q): %v", prefix, err)
	}
	return got
}

// assertInvisible fails if key can be read, stat'ed or listed.
func assertInvisible(t *testing.T, s *s3.Store, key string) {
	t.Helper()
	if info, err := s.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Stat(%s) = %+v, %v; want ErrNotExist", key, info, err)
	}
	if _, err := s.Open(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Open(%s) = %v; want ErrNotExist", key, err)
	}
	prefix := key[:strings.LastIndex(key, "/")+1]
	err := s.List(t.Context(), prefix, func(o storage.ObjectInfo) error {
		if o.Key == key {
			t.Errorf("List(%q) shows %s before completion", prefix, key)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
}

func readObject(t *testing.T, s *s3.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func wantObject(t *testing.T, s *s3.Store, key string, want []byte) {
	t.Helper()
	if got := readObject(t, s, key); !bytes.Equal(got, want) {
		t.Fatalf("object %s = %d bytes, want %d (byte-equal)", key, len(got), len(want))
	}
}

func putDeferred(t *testing.T, s *s3.Store, key string, data []byte) storage.Pending {
	t.Helper()
	p, err := s.PutDeferred(t.Context(), key, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("PutDeferred(%s, %d bytes): %v", key, len(data), err)
	}
	if p.Key != key || p.ID == "" || p.Token == "" {
		t.Fatalf("PutDeferred(%s) = %+v; want the key, an upload id and a token", key, p)
	}
	return p
}

func TestS3Deferred_InvisibleUntilCompleted(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	cases := []struct {
		name      string
		size      int
		etagParts string
	}{
		{"20MiB multipart", 20 << 20, "-4"},
		{"100KiB below the part size", 100 << 10, "-1"},
		{"empty", 0, "-1"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, bucket := deferredStore(t, srv)
			data := body(tc.size, byte(i))
			key := "bronze/t/day=1/part-0.parquet"
			p := putDeferred(t, s, key, data)

			assertInvisible(t, s, key)
			if got := listDeferred(t, s, "bronze/t/"); len(got) != 1 || got[0].Key != key || got[0].ID != p.ID || got[0].Token != "" {
				t.Fatalf("ListDeferred before completion = %+v; want exactly {%s %s} without a token", got, key, p.ID)
			}

			if err := s.CompleteDeferred(t.Context(), p); err != nil {
				t.Fatalf("CompleteDeferred: %v", err)
			}
			wantObject(t, s, key, data)
			wantOnDisk(t, srv, bucket, key, data)
			info, err := s.Stat(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(tc.size) || !strings.HasSuffix(info.ETag, tc.etagParts) {
				t.Errorf("Stat = size %d ETag %q; want size %d and a multipart ETag ending %q", info.Size, info.ETag, tc.size, tc.etagParts)
			}
			if got := listDeferred(t, s, "bronze/t/"); len(got) != 0 {
				t.Errorf("ListDeferred after completion = %+v; want none", got)
			}
			assertNoPendingUploads(t, srv, bucket)
		})
	}
}

func TestS3Deferred_CompletedByAnotherProcessAndTwice(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	s, bucket := deferredStore(t, srv)
	for i, size := range []int{12 << 20, 3 << 10} {
		key := "day=2/part-" + string(rune('a'+i)) + ".parquet"
		data := body(size, 7)
		p := putDeferred(t, s, key, data)

		// The state store keeps the Pending as JSON; the next attempt of the
		// job, another process, decodes it and builds its own Store.
		saved, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var loaded storage.Pending
		if err := json.Unmarshal(saved, &loaded); err != nil {
			t.Fatal(err)
		}
		other := newStore(t, config(srv, bucket))
		if err := other.CompleteDeferred(t.Context(), loaded); err != nil {
			t.Fatalf("CompleteDeferred from a new Store after a JSON round trip: %v", err)
		}
		wantObject(t, s, key, data)
		before, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}

		// A commit interrupted after this completion runs again.
		if err := s.CompleteDeferred(t.Context(), p); err != nil {
			t.Fatalf("second CompleteDeferred of %d bytes = %v; want nil (idempotent)", size, err)
		}
		after, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if after.ETag != before.ETag || after.Size != before.Size || !after.ModTime.Equal(before.ModTime) {
			t.Errorf("second completion changed the object: %+v, was %+v", after, before)
		}
		wantObject(t, s, key, data)
	}
	assertNoPendingUploads(t, srv, bucket)
}

func TestS3Deferred_AbortDiscards(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	s, bucket := deferredStore(t, srv)
	for _, size := range []int{11 << 20, 100 << 10} {
		key := "day=3/part.parquet"
		p := putDeferred(t, s, key, body(size, 1))
		// A process that only kept Key and ID (as ListDeferred gives them).
		if err := s.AbortDeferred(t.Context(), storage.Pending{Key: p.Key, ID: p.ID}); err != nil {
			t.Fatalf("AbortDeferred: %v", err)
		}
		assertInvisible(t, s, key)
		if got := listDeferred(t, s, ""); len(got) != 0 {
			t.Fatalf("ListDeferred after abort = %+v; want none", got)
		}
		err := s.CompleteDeferred(t.Context(), p)
		if !errors.Is(err, storage.ErrNotExist) || !strings.Contains(err.Error(), p.ID) {
			t.Fatalf("CompleteDeferred after abort = %v; want ErrNotExist naming the upload", err)
		}
		assertInvisible(t, s, key)
		if err := s.AbortDeferred(t.Context(), p); err != nil {
			t.Fatalf("second AbortDeferred = %v; want nil", err)
		}
	}
	assertNoPendingUploads(t, srv, bucket)
}

// An aborted upload whose key holds an older object: versitygw answers the
// completion with success, as if it were a retry of one that landed.
func TestS3Deferred_CompleteAfterAbortOverAnObjectIsNotExist(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	s, bucket := deferredStore(t, srv)
	key := "day=3/part.parquet"
	old := body(2000, 9)
	if err := s.Put(t.Context(), key, bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	p := putDeferred(t, s, key, body(1000, 1))
	if err := s.AbortDeferred(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteDeferred(t.Context(), p); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("CompleteDeferred of an aborted upload over an older object = %v; want ErrNotExist", err)
	}
	wantObject(t, s, key, old)
	assertNoPendingUploads(t, srv, bucket)
}

func TestS3Deferred_CompleteAfterAnotherObjectReplacedItIsNotExist(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	s, _ := deferredStore(t, srv)
	key := "day=4/part.parquet"
	p := putDeferred(t, s, key, body(1000, 1))
	if err := s.CompleteDeferred(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	// Another upload's object now sits under the key: a re-run of the
	// first completion must not take it for its own.
	q := putDeferred(t, s, key, body(1000, 2))
	if err := s.CompleteDeferred(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteDeferred(t.Context(), p); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("re-running a completion whose object was replaced = %v; want ErrNotExist", err)
	}
	wantObject(t, s, key, body(1000, 2))
}

// failingReader yields n bytes of data and then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// cancellingReader cancels its context once it has yielded after bytes.
type cancellingReader struct {
	r      io.Reader
	after  int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.after -= n; c.after <= 0 {
		c.cancel()
	}
	return n, err
}

func TestS3Deferred_FailedPutLeavesNothing(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	errBoom := errors.New("disk read failed")
	type failedPut struct {
		name string
		put  func(t *testing.T, s *s3.Store, key string) error
		want error
	}
	cases := []failedPut{
		{"reader fails after 12 MiB (parts uploaded)", func(t *testing.T, s *s3.Store, key string) error {
			_, err := s.PutDeferred(t.Context(), key, &failingReader{data: body(12<<20, 0), err: errBoom}, -1)
			return err
		}, errBoom},
		{"reader fails after 100 KiB", func(t *testing.T, s *s3.Store, key string) error {
			_, err := s.PutDeferred(t.Context(), key, &failingReader{data: body(100<<10, 0), err: errBoom}, -1)
			return err
		}, errBoom},
		{"context cancelled after 7 MiB", func(t *testing.T, s *s3.Store, key string) error {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &cancellingReader{r: bytes.NewReader(body(20<<20, 0)), after: 7 << 20, cancel: cancel}
			_, err := s.PutDeferred(ctx, key, r, 20<<20)
			return err
		}, context.Canceled},
		{"context cancelled before", func(t *testing.T, s *s3.Store, key string) error {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := s.PutDeferred(ctx, key, bytes.NewReader(body(100, 0)), 100)
			return err
		}, context.Canceled},
	}
	for _, m := range []struct{ actual, announced int }{{12 << 20, 13 << 20}, {100 << 10, 101 << 10}, {12 << 20, 11 << 20}} {
		cases = append(cases, failedPut{fmt.Sprintf("%d bytes announced as %d", m.actual, m.announced), func(t *testing.T, s *s3.Store, key string) error {
			_, err := s.PutDeferred(t.Context(), key, bytes.NewReader(body(m.actual, 0)), int64(m.announced))
			return err
		}, storage.ErrSizeMismatch})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, bucket := deferredStore(t, srv)
			key := "day=5/part.parquet"
			if err := tc.put(t, s, key); !errors.Is(err, tc.want) {
				t.Fatalf("PutDeferred = %v; want an error wrapping %v", err, tc.want)
			}
			if got := listDeferred(t, s, ""); len(got) != 0 {
				t.Errorf("ListDeferred after a failed PutDeferred = %+v; want none", got)
			}
			assertInvisible(t, s, key)
			assertNoPendingUploads(t, srv, bucket)
		})
	}
}

func TestS3Deferred_CompleteReplacesExistingAtomically(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	s, bucket := deferredStore(t, srv)
	for i, size := range []int{9 << 20, 4 << 10} {
		key := "day=6/part.parquet"
		old := body(size+5, byte(2*i))
		if err := s.Put(t.Context(), key, bytes.NewReader(old), int64(len(old))); err != nil {
			t.Fatal(err)
		}
		data := body(size, byte(2*i+1))
		p := putDeferred(t, s, key, data)
		wantObject(t, s, key, old) // readers still see the old object
		if err := s.CompleteDeferred(t.Context(), p); err != nil {
			t.Fatalf("CompleteDeferred over an existing object: %v", err)
		}
		wantObject(t, s, key, data)
		wantOnDisk(t, srv, bucket, key, data)
	}
	assertNoPendingUploads(t, srv, bucket)
}

func TestS3Deferred_ListDeferredScopesAndStops(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	s, _ := deferredStore(t, srv)
	var mine []storage.Pending
	for _, key := range []string{"t/day=1/a", "t/day=1/b", "t/day=10/c", "u/day=1/d"} {
		mine = append(mine, putDeferred(t, s, key, body(10, 0)))
	}
	got := listDeferred(t, s, "t/day=1/")
	if len(got) != 2 || got[0].Key != "t/day=1/a" || got[1].Key != "t/day=1/b" {
		t.Fatalf("ListDeferred(t/day=1/) = %+v; want a and b only", got)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.ListDeferred(t.Context(), "t/", func(storage.Pending) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("ListDeferred with fn failing = %v after %d calls; want fn's error after 1", err, calls)
	}
	for _, p := range mine {
		if err := s.AbortDeferred(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	if got := listDeferred(t, s, ""); len(got) != 0 {
		t.Fatalf("ListDeferred after aborting all = %+v", got)
	}
}

// refusePartsTransport answers every UploadPart (a PUT with an uploadId)
// with a 400 the SDK does not retry, and passes everything else through.
type refusePartsTransport struct{ refused atomic.Int64 }

func (f *refusePartsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPut || !req.URL.Query().Has("uploadId") {
		return http.DefaultTransport.RoundTrip(req)
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	f.refused.Add(1)
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRequest</Code><Message>part refused by the test</Message></Error>`
	return &http.Response{
		StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/xml"}},
		Body:    io.NopCloser(strings.NewReader(body)),
		Request: req,
	}, nil
}

func TestS3Deferred_RefusedPartLeavesNothing(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	for _, size := range []int{12 << 20, 100 << 10} {
		bucket := srv.NewBucket(t)
		cfg := config(srv, bucket)
		cfg.PartSizeBytes = 5 << 20
		ft := &refusePartsTransport{}
		cfg.HTTPClient = &http.Client{Transport: ft}
		s := newStore(t, cfg)
		key := "day=8/part.parquet"
		_, err := s.PutDeferred(t.Context(), key, bytes.NewReader(body(size, 0)), int64(size))
		if err == nil || !strings.Contains(err.Error(), "part refused by the test") {
			t.Fatalf("PutDeferred(%d bytes) with parts refused = %v; want the server's error", size, err)
		}
		if ft.refused.Load() == 0 {
			t.Fatalf("no UploadPart was sent for %d bytes", size)
		}
		if got := listDeferred(t, s, ""); len(got) != 0 {
			t.Errorf("ListDeferred after a refused part (%d bytes) = %+v; want none", size, got)
		}
		assertInvisible(t, s, key)
		assertNoPendingUploads(t, srv, bucket)
	}
}
