package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// schemaV6 adds the source's count of each part's ranges; parts recorded
// before it (and by syncs without quality checks) hold -1, unknown.
const schemaV6 = `
ALTER TABLE parts ADD COLUMN source_rows INTEGER NOT NULL DEFAULT -1;
`

// schemaV7 adds the handle of a part uploaded straight to its published key
// but not yet completed (storage.Pending as JSON; empty for a staged part).
const schemaV7 = `
ALTER TABLE parts ADD COLUMN pending TEXT NOT NULL DEFAULT '';
`

// schemaV13 adds the binlog position of the earliest consistent snapshot
// among each part's ranges (empty when not read: a server without a
// binary log, or MySQL).
const schemaV13 = `
ALTER TABLE parts ADD COLUMN snapshot_file TEXT NOT NULL DEFAULT '';
ALTER TABLE parts ADD COLUMN snapshot_pos INTEGER NOT NULL DEFAULT 0;
ALTER TABLE parts ADD COLUMN snapshot_gtid TEXT NOT NULL DEFAULT '';
`

// schemaV15 adds, per part, the values it wrote as NULL because their
// column's Parquet type cannot hold them (JSON, column -> count): a range
// worker on another replica reports them to the job's commit this way.
const schemaV15 = `
ALTER TABLE parts ADD COLUMN nulled TEXT NOT NULL DEFAULT '{}';
`

// schemaV16 adds, per part, the mergeable statistics of its rows
// (stats.Summary as JSON; empty when not gathered): the job's owner merges
// those of ranges read on other replicas or by earlier attempts, so the
// rules that need every row run over all of them.
const schemaV16 = `
ALTER TABLE parts ADD COLUMN stats TEXT NOT NULL DEFAULT '';
`

// Part is one file a job uploaded for a stream, with the primary-key ranges
// (indexes into the stream's saved plan) whose rows it holds. A retried
// attempt skips ranges already covered by parts, which makes a full refresh
// resumable.
type Part struct {
	JobID     int64
	Stream    string
	Partition string
	Key       string // object key
	Ranges    []int
	Rows      int64
	Bytes     int64
	SHA256    string // hex
	// SourceRows is COUNT(*) of the part's ranges, each taken in its
	// read's snapshot (the completeness check's source side); -1 when not
	// counted.
	SourceRows int64
	// Pending is set when the part was uploaded to its published key and
	// waits for the commit to complete it (storage.Pending as JSON): Key is
	// then that published key. Empty for a part in the staging area.
	Pending string
	// SnapshotFile, SnapshotPos and SnapshotGTID are the binlog position
	// of the earliest range snapshot the part holds ("" when unknown):
	// the manifest's point of the source's history is the earliest of all
	// parts, whichever attempt read them.
	SnapshotFile string
	SnapshotPos  int64
	SnapshotGTID string
	// Nulled counts, per column, the values the part wrote as NULL because
	// the column's Parquet type cannot hold them (recorded by range
	// workers; nil when not recorded).
	Nulled map[string]int64
	// Stats is the part's mergeable statistics (stats.Summary as JSON),
	// empty when the reader gathered none.
	Stats     string
	CreatedAt time.Time
	// Attempt, when set, is the attempt that uploaded the part: the record
	// is refused with ErrLostJob unless that attempt still runs (fencing
	// a stalled worker whose job was taken over). Not stored.
	Attempt int
}

// RecordPart records an uploaded file. Recording the same key again replaces
// the row, so a caller may retry it safely. CreatedAt is set by the store
// when zero.
func (s *Store) RecordPart(ctx context.Context, p Part) error {
	err := inTx(ctx, s.db, func(tx *txn) error {
		if p.Attempt > 0 {
			if err := fence(ctx, tx, p.JobID, p.Attempt); err != nil {
				return err
			}
		}
		return insertPart(ctx, tx, p, s.clock())
	})
	if err != nil {
		return fmt.Errorf("record part %s: %w", p.Key, err)
	}
	return nil
}

// insertPart writes p's row in tx, replacing one of the same key.
func insertPart(ctx context.Context, tx *txn, p Part, now time.Time) error {
	ranges, err := json.Marshal(nonNil(p.Ranges))
	if err != nil {
		return err
	}
	nulled, err := json.Marshal(p.Nulled)
	if err != nil || p.Nulled == nil {
		nulled = []byte("{}")
	}
	created := p.CreatedAt
	if created.IsZero() {
		created = now
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO parts (job_id, stream, key, partition, ranges, rows, bytes, sha256, source_rows, pending,
			snapshot_file, snapshot_pos, snapshot_gtid, nulled, stats, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (job_id, stream, key) DO UPDATE SET partition = excluded.partition, ranges = excluded.ranges,
			rows = excluded.rows, bytes = excluded.bytes, sha256 = excluded.sha256, source_rows = excluded.source_rows,
			pending = excluded.pending, snapshot_file = excluded.snapshot_file, snapshot_pos = excluded.snapshot_pos,
			snapshot_gtid = excluded.snapshot_gtid, nulled = excluded.nulled, stats = excluded.stats`,
		p.JobID, p.Stream, p.Key, p.Partition, string(ranges), p.Rows, p.Bytes, p.SHA256, p.SourceRows, p.Pending,
		p.SnapshotFile, p.SnapshotPos, p.SnapshotGTID, string(nulled), p.Stats, formatTime(created))
	return err
}

// Parts returns the parts a job uploaded for stream, oldest first.
func (s *Store) Parts(ctx context.Context, jobID int64, stream string) ([]Part, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT job_id, stream, key, partition, ranges, rows, bytes, sha256, source_rows, pending,
			snapshot_file, snapshot_pos, snapshot_gtid, nulled, stats, created_at
		FROM parts WHERE job_id = ? AND stream = ? ORDER BY created_at, key`, jobID, stream)
	if err != nil {
		return nil, fmt.Errorf("parts of job %d stream %s: %w", jobID, stream, err)
	}
	defer rows.Close()
	var out []Part
	for rows.Next() {
		var (
			p       Part
			ranges  string
			nulled  string
			created string
		)
		if err := rows.Scan(&p.JobID, &p.Stream, &p.Key, &p.Partition, &ranges, &p.Rows, &p.Bytes, &p.SHA256, &p.SourceRows, &p.Pending,
			&p.SnapshotFile, &p.SnapshotPos, &p.SnapshotGTID, &nulled, &p.Stats, &created); err != nil {
			return nil, fmt.Errorf("parts of job %d stream %s: %w", jobID, stream, err)
		}
		if err := json.Unmarshal([]byte(ranges), &p.Ranges); err != nil {
			return nil, fmt.Errorf("parts of job %d stream %s: decode ranges: %w", jobID, stream, err)
		}
		if err := json.Unmarshal([]byte(nulled), &p.Nulled); err != nil {
			return nil, fmt.Errorf("parts of job %d stream %s: decode nulled counts: %w", jobID, stream, err)
		}
		if len(p.Nulled) == 0 {
			p.Nulled = nil
		}
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("parts of job %d stream %s: %w", jobID, stream, err)
	}
	return out, nil
}

// DeleteParts forgets a job's parts of stream, after the files were deleted
// (failed job) or folded into a committed manifest.
func (s *Store) DeleteParts(ctx context.Context, jobID int64, stream string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM parts WHERE job_id = ? AND stream = ?`, jobID, stream); err != nil {
		return fmt.Errorf("delete parts of job %d stream %s: %w", jobID, stream, err)
	}
	return nil
}

// ForgetPart removes one part's record, so the next attempt reads its
// ranges again: its upload was lost (aborted or expired) before the commit.
func (s *Store) ForgetPart(ctx context.Context, jobID int64, stream, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM parts WHERE job_id = ? AND stream = ? AND key = ?`, jobID, stream, key); err != nil {
		return fmt.Errorf("forget part %s of job %d stream %s: %w", key, jobID, stream, err)
	}
	return nil
}

// SavePlan stores the range plan (JSON) of a job's stream, so every attempt
// of the job reads the same ranges and Part.Ranges stay meaningful. Saving
// again replaces it.
func (s *Store) SavePlan(ctx context.Context, jobID int64, stream string, plan []byte) error {
	if !json.Valid(plan) {
		return fmt.Errorf("save plan of job %d stream %s: plan is not valid JSON", jobID, stream)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO plans (job_id, stream, plan, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (job_id, stream) DO UPDATE SET plan = excluded.plan, created_at = excluded.created_at`,
		jobID, stream, string(plan), formatTime(s.clock()))
	if err != nil {
		return fmt.Errorf("save plan of job %d stream %s: %w", jobID, stream, err)
	}
	return nil
}

// Plan returns the saved range plan of a job's stream; ok is false when the
// job has none yet (its first attempt).
func (s *Store) Plan(ctx context.Context, jobID int64, stream string) (plan []byte, ok bool, err error) {
	var text string
	err = s.db.QueryRowContext(ctx, `SELECT plan FROM plans WHERE job_id = ? AND stream = ?`, jobID, stream).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("plan of job %d stream %s: %w", jobID, stream, err)
	}
	return []byte(text), true, nil
}
