package state

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

func TestTryLock_OneSessionAtATimeAndFreedWhenItsHolderGoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.SharedPostgres(t).NewDatabase(t)
	open := func() *Store {
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	defer b.Close()
	held, err := a.TryLock(ctx, "cdc/conn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLock(ctx, "cdc/conn"); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("second session: %v, want ErrLockHeld", err)
	}
	other, err := b.TryLock(ctx, "cdc/other")
	if err != nil {
		t.Fatalf("another name: %v", err)
	}
	other.Release()
	held.Release()
	again, err := b.TryLock(ctx, "cdc/conn")
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	// The holder's session ends without a release (as when its process is
	// killed): the server frees the lock, and the holder is told.
	var pid int
	if err := again.conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-again.Lost():
	case <-time.After(4 * lockPing):
		t.Fatal("Lost not closed after the holder's session ended")
	}
	taken, err := a.TryLock(ctx, "cdc/conn")
	if err != nil {
		t.Fatalf("after the holder's session ended: %v", err)
	}
	taken.Release()
	again.Release()
	a.Close()
	sqlite, err := Open(ctx, t.TempDir()+"/s.db")
	if err != nil {
		t.Fatal(err)
	}
	defer sqlite.Close()
	if _, err := sqlite.TryLock(ctx, "x"); !errors.Is(err, ErrNoSessionLocks) {
		t.Errorf("SQLite: %v, want ErrNoSessionLocks", err)
	}
}
