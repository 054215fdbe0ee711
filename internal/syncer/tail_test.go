package syncer

import (
	"bytes"
	"context"
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

// Written (what S3 waits on before it reads a part of the file at its
// offset) returns once the file holds the bytes asked for or is finished,
// with the writer's error when it gave the file up, and ctx's error when
// the caller stops waiting.
func TestTailReader_WrittenWaitsForTheBytesOrTheEnd(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "part")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	tr, err := newTailReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.wrote(40)
	if n, complete, err := tr.Written(t.Context(), 40); n != 40 || complete || err != nil {
		t.Fatalf("Written(40) with 40 written = %d, %v, %v", n, complete, err)
	}
	got := make(chan int64, 1)
	go func() {
		n, _, err := tr.Written(t.Context(), 90)
		if err != nil {
			t.Error(err)
		}
		got <- n
	}()
	tr.wrote(60)
	select {
	case n := <-got:
		t.Fatalf("Written(90) returned at %d bytes", n)
	case <-time.After(20 * time.Millisecond):
	}
	tr.wrote(95)
	if n := <-got; n != 95 {
		t.Fatalf("Written(90) = %d, want 95", n)
	}
	b := make([]byte, 10)
	if n, err := tr.ReadAt(b, 85); n != 10 || err != nil || string(b) != "xxxxxxxxxx" {
		t.Fatalf("ReadAt(85) = %d %q %v", n, b, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { _, _, err := tr.Written(ctx, 200); stopped <- err }()
	cancel()
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("Written after cancel = %v, want context.Canceled", err)
	}
	tr.wrote(100)
	tr.finish(nil)
	if n, complete, err := tr.Written(t.Context(), 200); n != 100 || !complete || err != nil {
		t.Fatalf("Written(200) of a finished 100-byte file = %d, %v, %v", n, complete, err)
	}

	abandoned, err := newTailReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer abandoned.Close()
	abandoned.finish(errPartDiscarded)
	if _, _, err := abandoned.Written(t.Context(), 1); !errors.Is(err, errPartDiscarded) {
		t.Fatalf("Written of an abandoned file = %v, want errPartDiscarded", err)
	}
}
