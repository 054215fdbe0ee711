package cdc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrReaderRunning says another process already reads this connection's
// binlog: two readers would commit the same transactions twice.
var ErrReaderRunning = errors.New("another acode cdc reads this connection")

// Lock takes the connection's reader lock, a file lock beside the state
// database that the kernel releases when the process dies (kill -9
// included). Call the returned func to release it.
func Lock(stateDB, connection string) (func(), error) {
	path := filepath.Join(filepath.Dir(stateDB), "cdc-"+connection+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cdc lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cdc lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s): %s", ErrReaderRunning, connection, path)
		}
		return nil, fmt.Errorf("cdc lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
