package cdc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/acode-dev/acode/internal/state"
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

// Hold takes the connection's reader lock where every process that could
// run the reader sees it: in a PostgreSQL state store, a session lock
// there (replicas of acode serve on other machines share the store, not a
// file system; the server frees it when the holder dies); with a SQLite
// state, the file lock beside it. lost is closed if the lock is lost while
// held (the state's session ended): the reader must stop. nil never is.
func Hold(ctx context.Context, st *state.Store, stateDB, connection string) (release func(), lost <-chan struct{}, err error) {
	l, err := st.TryLock(ctx, "cdc/"+connection)
	switch {
	case errors.Is(err, state.ErrNoSessionLocks):
		release, err := Lock(stateDB, connection)
		return release, nil, err
	case errors.Is(err, state.ErrLockHeld):
		return nil, nil, fmt.Errorf("%w (%s): its lock in the state store is held", ErrReaderRunning, connection)
	case err != nil:
		return nil, nil, fmt.Errorf("cdc lock: %w", err)
	}
	return l.Release, l.Lost(), nil
}
