package storage

import (
	"context"
	"fmt"
	"io"
	"os"
)

// FilePutter is implemented by stores that can take in a finished local
// file without copying its bytes: the file backend hard-links it into place
// when it is on the same filesystem. A sync writes every part to a local
// file first, so for a local destination this saves writing each byte
// twice. Callers use PutFile, which falls back to Put.
type FilePutter interface {
	// PutFile stores f's whole content under key with Put's guarantees
	// (atomic, durable, size checked). f must not be written afterwards;
	// the caller may close and remove it.
	PutFile(ctx context.Context, key string, f *os.File, size int64) error
}

// PutFile stores the whole content of f under key: through the store's
// FilePutter when it has one, else by a Put from f's start.
func PutFile(ctx context.Context, s Store, key string, f *os.File, size int64) error {
	if fp, ok := s.(FilePutter); ok {
		return fp.PutFile(ctx, key, f, size)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("put %s: rewind %s: %w", s.Location(key), f.Name(), err)
	}
	return s.Put(ctx, key, f, size)
}
