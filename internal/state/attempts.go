package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AttemptStatus is an attempt's state in Airbyte's words.
type AttemptStatus string

const (
	AttemptRunning   AttemptStatus = "running"
	AttemptFailed    AttemptStatus = "failed"
	AttemptSucceeded AttemptStatus = "succeeded"
)

// Attempt is one try at running a job; a retry is a new attempt of the same
// job, numbered from 1 like Airbyte's attempts array.
type Attempt struct {
	JobID     int64
	Number    int
	Status    AttemptStatus
	CreatedAt time.Time
	UpdatedAt time.Time
	EndedAt   *time.Time
	Error     string
}

// StartAttempt opens the job's next attempt and marks the job running (and
// started, the first time). An attempt still marked running is failed as
// superseded: its runner is gone. A job that already ended returns
// ErrJobEnded.
func (s *Store) StartAttempt(ctx context.Context, jobID int64) (Attempt, error) {
	return s.StartAttemptAs(ctx, jobID, "")
}

// StartAttemptAs is StartAttempt for a runner that names its owner: when
// another process has taken the job over it returns ErrLostJob instead of
// superseding that process's attempt. An empty owner skips the check.
func (s *Store) StartAttemptAs(ctx context.Context, jobID int64, owner string) (Attempt, error) {
	var a Attempt
	err := inTx(ctx, s.db, func(tx *txn) error {
		now := s.clock()
		ts := formatTime(now)
		var status JobStatus
		var holder string
		err := tx.QueryRowContext(ctx, `SELECT status, owner FROM jobs WHERE id = ?`, jobID).Scan(&status, &holder)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if owner != "" && holder != owner {
			return fmt.Errorf("%w (now run by %s)", ErrLostJob, holder)
		}
		if status.Terminal() {
			return fmt.Errorf("%w (status %s)", ErrJobEnded, status)
		}
		var last int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) FROM attempts WHERE job_id = ?`, jobID).Scan(&last); err != nil {
			return err
		}
		next := last + 1
		if _, err := tx.ExecContext(ctx, `UPDATE attempts SET status = ?, error = ?, ended_at = ?, updated_at = ? WHERE job_id = ? AND status = ?`,
			AttemptFailed, fmt.Sprintf("superseded by attempt %d", next), ts, ts, jobID, AttemptRunning); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (job_id, number, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			jobID, next, AttemptRunning, ts, ts); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, started_at = COALESCE(started_at, ?), updated_at = ?, heartbeat_at = ? WHERE id = ?`,
			JobRunning, ts, ts, ts, jobID); err != nil {
			return err
		}
		a = Attempt{JobID: jobID, Number: next, Status: AttemptRunning, CreatedAt: now, UpdatedAt: now}
		return nil
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("start attempt of job %d: %w", jobID, err)
	}
	return a, nil
}

// FinishAttempt ends a running attempt as failed or succeeded. The job's own
// status is the caller's next step (incomplete when it will retry, failed or
// succeeded when done). An attempt that already ended returns ErrJobEnded.
func (s *Store) FinishAttempt(ctx context.Context, jobID int64, number int, status AttemptStatus, errMsg string) error {
	if status != AttemptFailed && status != AttemptSucceeded {
		return fmt.Errorf("finish attempt %d of job %d: %q is not a final attempt status", number, jobID, status)
	}
	ts := formatTime(s.clock())
	res, err := s.db.ExecContext(ctx, `UPDATE attempts SET status = ?, error = ?, ended_at = ?, updated_at = ?
		WHERE job_id = ? AND number = ? AND status = ?`, status, errMsg, ts, ts, jobID, number, AttemptRunning)
	if err != nil {
		return fmt.Errorf("finish attempt %d of job %d: %w", number, jobID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("finish attempt %d of job %d: %w", number, jobID, err)
	}
	if n > 0 {
		return nil
	}
	var current AttemptStatus
	err = s.db.QueryRowContext(ctx, `SELECT status FROM attempts WHERE job_id = ? AND number = ?`, jobID, number).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finish attempt %d of job %d: %w", number, jobID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("finish attempt %d of job %d: %w", number, jobID, err)
	}
	return fmt.Errorf("finish attempt %d of job %d: %w (attempt %s)", number, jobID, ErrJobEnded, current)
}

// Attempts returns the job's attempts in order.
func (s *Store) Attempts(ctx context.Context, jobID int64) ([]Attempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT job_id, number, status, created_at, updated_at, ended_at, error
		FROM attempts WHERE job_id = ? ORDER BY number`, jobID)
	if err != nil {
		return nil, fmt.Errorf("list attempts of job %d: %w", jobID, err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var (
			a                Attempt
			created, updated string
			ended            sql.NullString
		)
		if err := rows.Scan(&a.JobID, &a.Number, &a.Status, &created, &updated, &ended, &a.Error); err != nil {
			return nil, fmt.Errorf("list attempts of job %d: %w", jobID, err)
		}
		if a.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if a.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		if a.EndedAt, err = parseOptTime(ended); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list attempts of job %d: %w", jobID, err)
	}
	return out, nil
}
