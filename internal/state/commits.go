package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CommitStatus says how a partition's live snapshot came to be.
type CommitStatus string

const (
	CommitCommitted   CommitStatus = "committed"   // written by a sync job
	CommitPromoted    CommitStatus = "promoted"    // backup data promoted by reconcile
	CommitQuarantined CommitStatus = "quarantined" // failed quality checks; kept aside
)

// Commit indexes the live snapshot of one stream's partition. The manifest
// in storage is the truth; this row lets status pages and health checks
// answer "what is in 2025-08-07 and who wrote it" without listing buckets.
type Commit struct {
	Connection  string
	Stream      string
	Partition   string // e.g. "2025-08-07"
	JobID       int64
	ManifestKey string
	Rows        int64
	Bytes       int64
	Files       int
	Source      string // "primary" or "backup"
	Status      CommitStatus
	CommittedAt time.Time
	// Attempt, when set, is the attempt of JobID that committed: the record
	// is refused with ErrLostJob unless that attempt still runs. Not stored.
	Attempt int
}

// RecordCommit records c as the partition's live snapshot, replacing the
// previous one. CommittedAt is set by the store when zero.
func (s *Store) RecordCommit(ctx context.Context, c Commit) error {
	if c.Connection == "" || c.Stream == "" || c.Partition == "" {
		return errors.New("record commit: connection, stream and partition are required")
	}
	at := c.CommittedAt
	if at.IsZero() {
		at = s.clock()
	}
	err := inTx(ctx, s.db, func(tx *txn) error {
		if c.Attempt > 0 {
			if err := fence(ctx, tx, c.JobID, c.Attempt); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO commits
		(connection, stream, partition, job_id, manifest_key, rows, bytes, files, source, status, committed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection, stream, partition) DO UPDATE SET job_id = excluded.job_id,
			manifest_key = excluded.manifest_key, rows = excluded.rows, bytes = excluded.bytes, files = excluded.files,
			source = excluded.source, status = excluded.status, committed_at = excluded.committed_at`,
			c.Connection, c.Stream, c.Partition, c.JobID, c.ManifestKey, c.Rows, c.Bytes, c.Files, c.Source, c.Status,
			formatTime(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("record commit %s/%s/%s: %w", c.Connection, c.Stream, c.Partition, err)
	}
	return nil
}

const selectCommit = `SELECT connection, stream, partition, job_id, manifest_key, rows, bytes, files, source, status,
	committed_at FROM commits`

func scanCommit(r rowScanner) (Commit, error) {
	var (
		c  Commit
		at string
	)
	err := r.Scan(&c.Connection, &c.Stream, &c.Partition, &c.JobID, &c.ManifestKey, &c.Rows, &c.Bytes, &c.Files,
		&c.Source, &c.Status, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Commit{}, ErrNotFound
	}
	if err != nil {
		return Commit{}, fmt.Errorf("scan commit: %w", err)
	}
	if c.CommittedAt, err = parseTime(at); err != nil {
		return Commit{}, err
	}
	return c, nil
}

// Commit returns the live snapshot of one partition, or ErrNotFound.
func (s *Store) Commit(ctx context.Context, connection, stream, partition string) (Commit, error) {
	c, err := scanCommit(s.db.QueryRowContext(ctx, selectCommit+` WHERE connection = ? AND stream = ? AND partition = ?`,
		connection, stream, partition))
	if err != nil {
		return Commit{}, fmt.Errorf("commit %s/%s/%s: %w", connection, stream, partition, err)
	}
	return c, nil
}

// Commits returns the connection's partitions committed at or after since,
// ordered by partition then stream. An empty stream means every stream.
func (s *Store) Commits(ctx context.Context, connection, stream string, since time.Time) ([]Commit, error) {
	q := selectCommit + ` WHERE connection = ? AND committed_at >= ?`
	args := []any{connection, formatTime(since)}
	if stream != "" {
		q += ` AND stream = ?`
		args = append(args, stream)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY partition, stream`, args...)
	if err != nil {
		return nil, fmt.Errorf("list commits of %s: %w", connection, err)
	}
	defer rows.Close()
	var out []Commit
	for rows.Next() {
		c, err := scanCommit(rows)
		if err != nil {
			return nil, fmt.Errorf("list commits of %s: %w", connection, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list commits of %s: %w", connection, err)
	}
	return out, nil
}
