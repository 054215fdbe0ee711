package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrLockHeld says another session holds the named lock.
var ErrLockHeld = errors.New("the lock is held by another session")

// ErrNoSessionLocks says the store cannot hold a lock for a session: a
// SQLite file, whose processes share one machine and use file locks.
var ErrNoSessionLocks = errors.New("the state store has no session locks (SQLite)")

// sessionLockClass is the first key of the store's named session locks
// (two-key advisory locks, a key space apart from writeLockKey's).
const sessionLockClass = 0x61636f64

// lockPing is how often a held lock's connection is checked.
const lockPing = 5 * time.Second

// SessionLock is a PostgreSQL advisory lock held by one connection of the
// store: the server releases it when that session ends, a kill -9 of the
// holder included, so a process on another machine can take over at once.
type SessionLock struct {
	name string
	conn *sql.Conn
	lost chan struct{}
	stop chan struct{}
	done chan struct{}
}

// TryLock takes the named session lock without waiting: ErrLockHeld when
// another session has it, ErrNoSessionLocks on SQLite. It holds one of the
// store's connections until Release.
func (s *Store) TryLock(ctx context.Context, name string) (*SessionLock, error) {
	if s.db.d != postgresDialect {
		return nil, ErrNoSessionLocks
	}
	conn, err := s.db.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", sessionLockClass, name).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if !got {
		conn.Close()
		return nil, fmt.Errorf("%w: %s", ErrLockHeld, name)
	}
	l := &SessionLock{name: name, conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, nil
}

// watch pings the session; when it is gone the lock is too, and Lost
// tells the holder to stop.
func (l *SessionLock) watch() {
	defer close(l.done)
	t := time.NewTicker(lockPing)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), lockPing)
			err := l.conn.PingContext(ctx)
			cancel()
			if err != nil {
				close(l.lost)
				return
			}
		}
	}
}

// Lost is closed when the session holding the lock ended: the holder no
// longer excludes anyone and must stop what the lock guarded.
func (l *SessionLock) Lost() <-chan struct{} { return l.lost }

// Release unlocks and returns the connection to the pool.
func (l *SessionLock) Release() {
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), lockPing)
	defer cancel()
	_, _ = l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1, hashtext($2))", sessionLockClass, l.name)
	l.conn.Close()
}
