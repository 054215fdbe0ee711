package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// StreamResult is what one job did to one stream: the rows and files it
// wrote and, once committed, the manifest that lists them. `acode sync
// --json` and the jobs API report these.
type StreamResult struct {
	JobID       int64
	Stream      string
	Partition   string // e.g. "2025-08-07", the Hive partition written
	Status      string // the syncer's word for the stream: running, committed, failed...
	Rows        int64
	Bytes       int64
	Files       []string // object keys
	ManifestKey string
	Error       string
	StartedAt   time.Time
	EndedAt     time.Time // zero while the stream runs
}

// SaveStreamResult inserts or replaces the result of r.JobID's r.Stream.
func (s *Store) SaveStreamResult(ctx context.Context, r StreamResult) error {
	files, err := json.Marshal(nonNil(r.Files))
	if err != nil {
		return fmt.Errorf("save stream result %s of job %d: %w", r.Stream, r.JobID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO stream_results
		(job_id, stream, partition, status, rows, bytes, files, manifest_key, error, started_at, ended_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (job_id, stream) DO UPDATE SET partition = excluded.partition, status = excluded.status,
			rows = excluded.rows, bytes = excluded.bytes, files = excluded.files, manifest_key = excluded.manifest_key,
			error = excluded.error, started_at = excluded.started_at, ended_at = excluded.ended_at`,
		r.JobID, r.Stream, r.Partition, r.Status, r.Rows, r.Bytes, string(files), r.ManifestKey, r.Error,
		formatOptTime(&r.StartedAt), formatOptTime(&r.EndedAt))
	if err != nil {
		return fmt.Errorf("save stream result %s of job %d: %w", r.Stream, r.JobID, err)
	}
	return nil
}

// StreamResults returns the job's per-stream results ordered by stream name.
func (s *Store) StreamResults(ctx context.Context, jobID int64) ([]StreamResult, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT job_id, stream, partition, status, rows, bytes, files, manifest_key,
		error, started_at, ended_at FROM stream_results WHERE job_id = ? ORDER BY stream`, jobID)
	if err != nil {
		return nil, fmt.Errorf("stream results of job %d: %w", jobID, err)
	}
	defer rows.Close()
	var out []StreamResult
	for rows.Next() {
		var (
			r              StreamResult
			files          string
			started, ended sql.NullString
		)
		if err := rows.Scan(&r.JobID, &r.Stream, &r.Partition, &r.Status, &r.Rows, &r.Bytes, &files, &r.ManifestKey,
			&r.Error, &started, &ended); err != nil {
			return nil, fmt.Errorf("stream results of job %d: %w", jobID, err)
		}
		if err := json.Unmarshal([]byte(files), &r.Files); err != nil {
			return nil, fmt.Errorf("stream results of job %d: decode files: %w", jobID, err)
		}
		if r.StartedAt, err = zeroIfNull(started); err != nil {
			return nil, err
		}
		if r.EndedAt, err = zeroIfNull(ended); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stream results of job %d: %w", jobID, err)
	}
	return out, nil
}

// nonNil stores an absent list as [] rather than null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func zeroIfNull(ns sql.NullString) (time.Time, error) {
	t, err := parseOptTime(ns)
	if err != nil || t == nil {
		return time.Time{}, err
	}
	return *t, nil
}
