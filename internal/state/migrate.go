package state

import (
	"context"
	"fmt"
	"time"
)

// migration is one numbered step of the schema. Steps are append-only: a
// released step is never edited; a change is a new step with the next number
// (health history, failover state and alerts arrive that way).
type migration struct {
	version int
	name    string
	sql     string
}

var migrations = []migration{
	{1, "jobs, attempts, stream results, parts, plans, cursors, commits", schemaV1},
	{2, "health history, failover state and transitions", schemaV2},
	{3, "alerts sent, open alert conditions, schedule fire times", schemaV3},
	{4, "data-quality reports per job and stream", schemaV4},
	{5, "a job continued by another (in-job failover)", schemaV5},
	{6, "rows the source counted for each part", schemaV6},
	{7, "parts uploaded to their published key, waiting for the commit", schemaV7},
	{8, "replicas of acode serve sharing the store", schemaV8},
	{9, "escalation levels notified and acknowledgements of alert conditions", schemaV9},
	{10, "acknowledgements passed on to the alert sinks", schemaV10},
	{11, "information_schema sizes of the source tables, weekly", schemaV11},
	{12, "range tasks read by workers on any replica", schemaV12},
	{13, "binlog position of each part's earliest range snapshot", schemaV13},
	{14, "the replica whose run drives a job chain", schemaV14},
	{15, "values each part wrote as NULL, per column", schemaV15},
	{16, "mergeable statistics of each part's rows", schemaV16},
	{17, "fenced, resumable steps of a failover pair's run", schemaV17},
}

// migrate applies every missing step of steps (ordered by version), each in
// its own write transaction together with its row in schema_migrations.
// Because the check runs inside the transaction that holds the write lock
// (SQLite's, or the PostgreSQL advisory lock), processes opening a fresh
// store at the same moment apply each step exactly once.
func migrate(ctx context.Context, db *handle, steps []migration, now func() time.Time) error {
	const ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`
	err := inTx(ctx, db, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, db.d.ddl(ddl))
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if known := steps[len(steps)-1].version; newest > known {
		return fmt.Errorf("%w: the store is at version %d, this build knows up to %d; upgrade acode", ErrSchemaTooNew, newest, known)
	}
	for _, m := range steps {
		if m.version <= newest {
			continue
		}
		if err := apply(ctx, db, m, now); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *handle, m migration, now func() time.Time) error {
	return inTx(ctx, db, func(tx *txn) error {
		var done int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done)
		if err != nil {
			return fmt.Errorf("migration %d: %w", m.version, err)
		}
		if done > 0 {
			return nil // another process applied it while we waited for the lock
		}
		if _, err := tx.ExecContext(ctx, db.d.ddl(m.sql)); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, formatTime(now()))
		if err != nil {
			return fmt.Errorf("record migration %d: %w", m.version, err)
		}
		return nil
	})
}

// SchemaVersion reports the newest migration applied to the file.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// schemaV1 is the first schema. Times are TEXT in timeLayout (UTC).
// The partial unique index makes "one live job per connection" a property of
// the file itself, not only of CreateJob's logic.
const schemaV1 = `
CREATE TABLE jobs (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	connection   TEXT    NOT NULL,
	source       TEXT    NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('pending','running','incomplete','failed','succeeded','cancelled')),
	created_at   TEXT    NOT NULL,
	updated_at   TEXT    NOT NULL,
	started_at   TEXT,
	ended_at     TEXT,
	error        TEXT    NOT NULL DEFAULT '',
	owner        TEXT    NOT NULL DEFAULT '',
	heartbeat_at TEXT    NOT NULL,
	rows         INTEGER NOT NULL DEFAULT 0,
	bytes        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_connection ON jobs (connection, id);
CREATE UNIQUE INDEX jobs_one_live_per_connection ON jobs (connection)
	WHERE status IN ('pending','running','incomplete');

CREATE TABLE attempts (
	job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	number     INTEGER NOT NULL,
	status     TEXT    NOT NULL CHECK (status IN ('running','failed','succeeded')),
	created_at TEXT    NOT NULL,
	updated_at TEXT    NOT NULL,
	ended_at   TEXT,
	error      TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (job_id, number)
);

CREATE TABLE stream_results (
	job_id       INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	stream       TEXT    NOT NULL,
	partition    TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL,
	rows         INTEGER NOT NULL DEFAULT 0,
	bytes        INTEGER NOT NULL DEFAULT 0,
	files        TEXT    NOT NULL DEFAULT '[]',
	manifest_key TEXT    NOT NULL DEFAULT '',
	error        TEXT    NOT NULL DEFAULT '',
	started_at   TEXT,
	ended_at     TEXT,
	PRIMARY KEY (job_id, stream)
);

CREATE TABLE parts (
	job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	stream     TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	partition  TEXT    NOT NULL DEFAULT '',
	ranges     TEXT    NOT NULL DEFAULT '[]',
	rows       INTEGER NOT NULL DEFAULT 0,
	bytes      INTEGER NOT NULL DEFAULT 0,
	sha256     TEXT    NOT NULL DEFAULT '',
	created_at TEXT    NOT NULL,
	PRIMARY KEY (job_id, stream, key)
);

CREATE TABLE plans (
	job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	stream     TEXT    NOT NULL,
	plan       TEXT    NOT NULL,
	created_at TEXT    NOT NULL,
	PRIMARY KEY (job_id, stream)
);

CREATE TABLE cursors (
	connection   TEXT    NOT NULL,
	stream       TEXT    NOT NULL,
	field        TEXT    NOT NULL DEFAULT '[]',
	value        TEXT    NOT NULL DEFAULT '',
	record_count INTEGER NOT NULL DEFAULT 0,
	job_id       INTEGER NOT NULL DEFAULT 0,
	updated_at   TEXT    NOT NULL,
	PRIMARY KEY (connection, stream)
);

CREATE TABLE commits (
	connection   TEXT    NOT NULL,
	stream       TEXT    NOT NULL,
	partition    TEXT    NOT NULL,
	job_id       INTEGER NOT NULL,
	manifest_key TEXT    NOT NULL DEFAULT '',
	rows         INTEGER NOT NULL DEFAULT 0,
	bytes        INTEGER NOT NULL DEFAULT 0,
	files        INTEGER NOT NULL DEFAULT 0,
	source       TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL CHECK (status IN ('committed','promoted','quarantined')),
	committed_at TEXT    NOT NULL,
	PRIMARY KEY (connection, stream, partition)
);
CREATE INDEX commits_by_time ON commits (connection, committed_at);
`
