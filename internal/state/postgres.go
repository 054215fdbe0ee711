package state

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // database/sql over pgx
)

// IsPostgresURL reports whether a state_db value names a PostgreSQL
// database (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactURL returns a PostgreSQL URL with its password (in the user info or
// a password= parameter) masked, the only form that may be printed or
// logged. Anything else is returned unchanged.
func RedactURL(location string) string {
	if !IsPostgresURL(location) {
		return location
	}
	u, err := url.Parse(location)
	if err != nil {
		return "postgres://(unreadable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// maxPostgresConns bounds one process's connections: its writes take one
// advisory lock anyway, and a cluster of replicas must stay far below the
// server's max_connections (100 by default).
const maxPostgresConns = 8

// stalledTxTimeout is how long PostgreSQL keeps a session of this process
// that sits idle inside a transaction before it ends it: a replica stopped
// (SIGSTOP, a frozen VM, a long GC pause of the host) in the middle of a
// write transaction would otherwise hold the store's advisory write lock,
// and with it every other replica's writes (heartbeats, takeovers, range
// claims), until it woke. acode's transactions never wait on anything
// between their statements, so a live process is never cut off.
const stalledTxTimeout = 10 * time.Second

// openPostgres opens the PostgreSQL database at rawURL through pgx's
// database/sql driver and applies missing migrations. Migrations take the
// store's advisory lock, so replicas starting together apply each step once.
// Errors name the database by its redacted URL: the password never appears.
func openPostgres(ctx context.Context, rawURL string, opts []Option) (*Store, error) {
	shown := RedactURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx masks the password in its own message.
		return nil, fmt.Errorf("open state store %s: %w", shown, err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, set := cfg.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(stalledTxTimeout.Milliseconds(), 10)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxPostgresConns)
	db.SetMaxIdleConns(maxPostgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := newStore(&handle{db: db, d: postgresDialect}, shown, opts)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state store %s: %w", shown, err)
	}
	if err := migrate(ctx, s.db, migrations, s.now); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state store %s: %w", shown, err)
	}
	return s, nil
}
