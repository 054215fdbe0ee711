package syncer

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestUploader_OneInFlightAndFirstErrorStops checks the overlap contract:
// start returns while the upload runs, the next start waits for it, and a
// failed upload is reported by the next start (which then drops its part)
// or by wait.
func TestUploader_OneInFlightAndFirstErrorStops(t *testing.T) {
	t.Parallel()
	var running, most atomic.Int32
	boom := errors.New("upload failed")
	var calls atomic.Int32
	release := make(chan struct{})
	u := newUploader(func(*part) error {
		n := running.Add(1)
		defer running.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		if calls.Add(1) == 1 {
			<-release // the first upload lasts until the test lets it go
		}
		time.Sleep(20 * time.Millisecond)
		if calls.Load() == 2 {
			return boom
		}
		return nil
	})
	started := make(chan error, 1)
	go func() { started <- u.start(&part{}) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("start waited for the upload instead of running it in the background")
	}
	close(release)
	if err := u.start(&part{}); err != nil { // waits for the first (ok), starts the second
		t.Fatal(err)
	}
	if err := u.start(&part{}); !errors.Is(err, boom) {
		t.Fatalf("start after a failed upload = %v, want the failure", err)
	}
	if err := u.wait(); err != nil {
		t.Fatalf("wait with nothing in flight = %v", err)
	}
	if most.Load() != 1 || calls.Load() != 2 {
		t.Errorf("%d uploads at once, %d uploads run; want 1 at a time and the third part dropped", most.Load(), calls.Load())
	}
}
