package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// schemaV8 adds the replicas of `acode serve` sharing the store: each
// writes its row at start and refreshes it while it runs, so every replica
// can list the others on its status page.
const schemaV8 = `
CREATE TABLE replicas (
	id         TEXT PRIMARY KEY,
	addr       TEXT NOT NULL DEFAULT '',
	started_at TEXT NOT NULL,
	seen_at    TEXT NOT NULL
);
`

// Replica is one `acode serve` process that shares the store.
type Replica struct {
	ID        string // host:pid, as DefaultOwner
	Addr      string // what it listens on
	StartedAt time.Time
	SeenAt    time.Time // its last sign of life
}

// replicaForgetAfter is how long a silent replica's row is kept (a killed
// replica never removes it).
const replicaForgetAfter = 10 * time.Minute

// SeeReplica records that replica id is alive now (the first call also
// records when it started) and deletes the rows of replicas silent for
// replicaForgetAfter.
func (s *Store) SeeReplica(ctx context.Context, id, addr string) error {
	clock := s.clock()
	now := formatTime(clock)
	_, err := s.db.ExecContext(ctx, `INSERT INTO replicas (id, addr, started_at, seen_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET addr = excluded.addr, seen_at = excluded.seen_at`, id, addr, now, now)
	if err != nil {
		return fmt.Errorf("record replica %s: %w", id, err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM replicas WHERE seen_at < ?`, formatTime(clock.Add(-replicaForgetAfter))); err != nil {
		return fmt.Errorf("prune replicas: %w", err)
	}
	return nil
}

// ForgetReplica removes a replica that stops.
func (s *Store) ForgetReplica(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM replicas WHERE id = ?`, id); err != nil {
		return fmt.Errorf("forget replica %s: %w", id, err)
	}
	return nil
}

// Replicas returns the replicas seen within fresh, oldest first. It only
// reads (status pages call it).
func (s *Store) Replicas(ctx context.Context, fresh time.Duration) ([]Replica, error) {
	now := s.clock()
	rows, err := s.db.QueryContext(ctx, `SELECT id, addr, started_at, seen_at FROM replicas WHERE seen_at >= ?
		ORDER BY started_at, id`, formatTime(now.Add(-fresh)))
	if err != nil {
		return nil, fmt.Errorf("list replicas: %w", err)
	}
	defer rows.Close()
	var out []Replica
	for rows.Next() {
		var (
			r             Replica
			started, seen string
		)
		if err := rows.Scan(&r.ID, &r.Addr, &started, &seen); err != nil {
			return nil, fmt.Errorf("list replicas: %w", err)
		}
		if r.StartedAt, err = parseTime(started); err != nil {
			return nil, err
		}
		if r.SeenAt, err = parseTime(seen); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SQL returns the PostgreSQL database under the store, for a package that
// must share it (River's queue and leader election live beside the state
// tables), and false on SQLite.
func (s *Store) SQL() (*sql.DB, bool) {
	if s.db.d != postgresDialect {
		return nil, false
	}
	return s.db.db, true
}
