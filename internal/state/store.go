package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver, pure Go
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	// DefaultLease is how long a job may go without a heartbeat before
	// another process may declare it abandoned (its owner was killed).
	DefaultLease = 2 * time.Minute

	// busyTimeout is how long a connection waits for another process's
	// write lock before failing with SQLITE_BUSY. Writes are short, so
	// hitting it means something is stuck.
	busyTimeout = 10 * time.Second
)

// Store is the state database. It is safe for concurrent use by many
// goroutines, and several processes may open the same file (or the same
// PostgreSQL database) at once.
type Store struct {
	db       *handle
	location string // the file, or the PostgreSQL URL without its password
	lease    time.Duration
	now      func() time.Time
}

// Option tunes a Store at Open.
type Option func(*Store)

// WithLease sets how long a job's heartbeat stays fresh (DefaultLease when
// unset). Runners must heartbeat well within it, e.g. every lease/4.
func WithLease(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.lease = d
		}
	}
}

// WithClock replaces time.Now, so tests can age heartbeats without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// Open opens the state store at location and brings its schema up to
// date. A postgres:// or postgresql:// URL opens a PostgreSQL database (see
// openPostgres); anything else is a SQLite file path. The SQLite file and its
// parent directory are created when missing; the file uses WAL (readers
// never block the writer); connections use synchronous=NORMAL (never
// corrupt; a power cut may lose the last commits), foreign keys, and a busy
// timeout so concurrent processes wait for each other instead of failing.
func Open(ctx context.Context, location string, opts ...Option) (*Store, error) {
	if IsPostgresURL(location) {
		return openPostgres(ctx, location, opts)
	}
	path := location
	if path == "" {
		return nil, errors.New("open state store: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		// The driver splits its DSN at '?': such a path would open another file.
		return nil, fmt.Errorf("open state store %s: path must not contain '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open state store: create directory: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	s := newStore(&handle{db: db, d: sqliteDialect}, path, opts)
	if err := retryBusy(ctx, func() error { return setup(ctx, s.db, s.now) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	return s, nil
}

func newStore(h *handle, location string, opts []Option) *Store {
	s := &Store{db: h, location: location, lease: DefaultLease, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// dsn builds the driver's connection string. The driver applies these
// per-connection settings to every pooled connection, busy_timeout first;
// _txlock makes every transaction BEGIN IMMEDIATE, taking the write lock up
// front so a read-then-write transaction never fails mid-way against another
// process. WAL is a property of the file, set once by setup.
func dsn(path string) string {
	return path + fmt.Sprintf("?_busy_timeout=%d&_synchronous=NORMAL&_foreign_keys=1&_txlock=immediate",
		busyTimeout.Milliseconds())
}

// setup switches the file to WAL (readers never block the writer) and
// applies missing migrations.
func setup(ctx context.Context, db *handle, now func() time.Time) error {
	var mode string
	if err := db.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL journal: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("set WAL journal: file stays in %q mode (WAL needs a local filesystem)", mode)
	}
	return migrate(ctx, db, migrations, now)
}

// retryBusy retries fn while SQLite reports the file busy, up to
// busyTimeout. SQLite skips the busy handler in a few cases that only occur
// while processes open a file at the same moment (journal mode change, WAL
// recovery); those surface as SQLITE_BUSY at once, and a short wait fixes
// them.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (waiting for a busy database: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED,
// primary code or any extended one.
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// Path is where the store lives: the SQLite file, or the PostgreSQL URL
// with its password masked (safe to print).
func (s *Store) Path() string { return s.location }

// Engine names the store's database engine: "sqlite" or "postgres".
func (s *Store) Engine() string { return s.db.d.name }

// Lease is how long a heartbeat stays fresh.
func (s *Store) Lease() time.Duration { return s.lease }

// Close closes the database. Pending WAL content is checkpointed by SQLite
// when the last connection to the file closes.
func (s *Store) Close() error {
	if err := s.db.db.Close(); err != nil {
		return fmt.Errorf("close state store: %w", err)
	}
	return nil
}

// clock returns the current time as storage keeps it.
func (s *Store) clock() time.Time { return truncate(s.now()) }
