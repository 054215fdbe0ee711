package s3_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// flakyTransport answers the first `fail` PUT requests with 503 SlowDown,
// as S3 does under throttling, and passes everything else to the server.
type flakyTransport struct {
	fail int64
	puts atomic.Int64
}

func (f *flakyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && f.puts.Add(1) <= f.fail {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
		return &http.Response{
			StatusCode: http.StatusServiceUnavailable, Status: "503 Slow Down", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/xml"}},
			Body:    io.NopCloser(strings.NewReader(body)),
			Request: req,
		}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestS3Store_RetriesThrottlingThenSucceeds(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	ft := &flakyTransport{fail: 2}
	cfg := config(srv, bucket)
	cfg.HTTPClient = &http.Client{Transport: ft}
	s := newStore(t, cfg)
	data := []byte("survives two 503s")
	if err := s.Put(t.Context(), "k", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put through two 503 SlowDown answers: %v", err)
	}
	if got := ft.puts.Load(); got != 3 {
		t.Errorf("PUT attempts = %d; want 3 (two throttled, one accepted)", got)
	}
	wantOnDisk(t, srv, bucket, "k", data)

	// With a single attempt allowed, the same throttling is an error.
	cfg.MaxAttempts = 1
	cfg.HTTPClient = &http.Client{Transport: &flakyTransport{fail: 1}}
	s1 := newStore(t, cfg)
	if err := s1.Put(t.Context(), "k2", bytes.NewReader(data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "SlowDown") {
		t.Fatalf("Put with MaxAttempts 1 through a 503 = %v; want the SlowDown error", err)
	}
}
