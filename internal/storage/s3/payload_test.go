package s3_test

import (
	"bytes"
	"net/http"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// headerTransport records the headers of every PUT it passes on.
type headerTransport struct {
	mu   sync.Mutex
	puts []http.Header
}

func (h *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut {
		h.mu.Lock()
		h.puts = append(h.puts, req.Header.Clone())
		h.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// Over plain HTTP the body is left out of the signature (as the SDK does
// over HTTPS) but still carries a CRC32 checksum the server verifies: a
// single PUT and a multipart upload both land whole on a real server.
func TestS3Store_UnsignedPayloadWithChecksumOverHTTP(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	ht := &headerTransport{}
	cfg := config(srv, bucket)
	cfg.HTTPClient = &http.Client{Transport: ht}
	cfg.PartSizeBytes = 5 << 20
	s := newStore(t, cfg)
	small, big := []byte("one small object"), bytes.Repeat([]byte("0123456789abcdef"), 12<<16) // 12 MiB: three parts
	for key, data := range map[string][]byte{"small": small, "big": big} {
		if err := s.Put(t.Context(), key, bytes.NewReader(data), -1); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
		wantOnDisk(t, srv, bucket, key, data)
	}
	if len(ht.puts) < 4 {
		t.Fatalf("%d PUT requests; want a single PUT and at least three part uploads", len(ht.puts))
	}
	for i, h := range ht.puts {
		if got := h.Get("X-Amz-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
			t.Errorf("PUT %d: X-Amz-Content-Sha256 = %q, want UNSIGNED-PAYLOAD", i, got)
		}
		if h.Get("X-Amz-Checksum-Crc32") == "" {
			t.Errorf("PUT %d carries no CRC32 checksum: %v", i, h)
		}
	}
}
