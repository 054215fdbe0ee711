package syncer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A reader of a growing file gets every byte in order, waits at the
// written end instead of seeing EOF, and sees EOF only once the writer
// finishes; a writer that gives up makes the reader fail with its error.
func TestTailReader_FollowsTheWriter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "part")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := newTailReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	got := make(chan []byte, 1)
	go func() {
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		got <- b
	}()
	var want []byte
	for i := range 50 {
		chunk := bytes.Repeat([]byte{byte(i)}, 1000+i*37)
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		want = append(want, chunk...)
		tr.wrote(int64(len(want)))
		if i == 10 {
			select {
			case <-got:
				t.Fatal("the reader ended before the writer finished")
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	tr.finish(nil)
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Errorf("read %d bytes, want the %d written", len(b), len(want))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader did not end after finish")
	}

	abandoned, err := newTailReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer abandoned.Close()
	abandoned.wrote(10)
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(abandoned); done <- err }()
	abandoned.finish(errPartDiscarded)
	if err := <-done; !errors.Is(err, errPartDiscarded) {
		t.Errorf("reader of an abandoned file = %v, want errPartDiscarded", err)
	}
}
