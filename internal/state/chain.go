package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// schemaV5 links a job to the job that continued it: when the primary
// dies mid-job and the failover orchestration syncs the backup in the same
// run, the primary's job keeps its own truth (failed, its attempts, its
// error) and points at the backup's job, so whoever polls the first id
// (Airflow) can follow the chain to its outcome.
const schemaV5 = `
ALTER TABLE jobs ADD COLUMN continued_by INTEGER REFERENCES jobs (id);
CREATE UNIQUE INDEX jobs_by_continued_by ON jobs (continued_by) WHERE continued_by IS NOT NULL;
`

// maxChain bounds a chain's walk; a run has at most a primary and a backup
// job, so this is only a guard against a corrupt file.
const maxChain = 16

// ErrBadContinuation is returned by ContinueJob for a link that would not
// make a chain: a job continuing itself, a job already continued by
// another, or a job already continuing one.
var ErrBadContinuation = errors.New("job cannot be continued that way")

// ContinueJob records that job from was continued by job to (the in-job
// failover's backup job). A job is continued at most once and continues at
// most one job; recording the same link again is a no-op.
func (s *Store) ContinueJob(ctx context.Context, from, to int64) error {
	err := inTx(ctx, s.db, func(tx *txn) error { return continueJob(ctx, tx, from, to) })
	if err != nil {
		return fmt.Errorf("continue job %d by job %d: %w", from, to, err)
	}
	return nil
}

// continueJob is ContinueJob in the write transaction tx.
func continueJob(ctx context.Context, tx *txn, from, to int64) error {
	if from == to {
		return fmt.Errorf("continue job %d by itself: %w", from, ErrBadContinuation)
	}
	var next sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT continued_by FROM jobs WHERE id = ?`, from).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("job %d: %w", from, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if next.Valid {
		if next.Int64 == to {
			return nil
		}
		return fmt.Errorf("%w: job %d is already continued by job %d", ErrBadContinuation, from, next.Int64)
	}
	var prev int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE continued_by = ?`, to).Scan(&prev)
	switch {
	case err == nil:
		return fmt.Errorf("%w: job %d already continues job %d", ErrBadContinuation, to, prev)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE id = ?`, to).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("job %d: %w", to, ErrNotFound)
	}
	_, err = tx.ExecContext(ctx, `UPDATE jobs SET continued_by = ? WHERE id = ?`, to, from)
	return err
}

// JobChain returns job id followed by the jobs that continued it, in
// order: one job when it was never continued. The last job's status is the
// chain's outcome.
func (s *Store) JobChain(ctx context.Context, id int64) ([]Job, error) {
	first, err := s.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	chain := []Job{first}
	for next := first.ContinuedBy; next != 0; next = chain[len(chain)-1].ContinuedBy {
		if len(chain) >= maxChain {
			return nil, fmt.Errorf("chain of job %d: longer than %d jobs", id, maxChain)
		}
		j, err := s.Job(ctx, next)
		if err != nil {
			return nil, fmt.Errorf("chain of job %d: %w", id, err)
		}
		chain = append(chain, j)
	}
	return chain, nil
}

// ContinuedFrom returns the id of the job that job id continues, or 0 when
// it continues none.
func (s *Store) ContinuedFrom(ctx context.Context, id int64) (int64, error) {
	var prev int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM jobs WHERE continued_by = ?`, id).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("job continued by job %d: %w", id, err)
	}
	return prev, nil
}

// ChainHead returns the first job of the chain job id belongs to: the id a
// caller was handed when the run began (id itself when it continues none).
func (s *Store) ChainHead(ctx context.Context, id int64) (int64, error) {
	head := id
	for range maxChain {
		prev, err := s.ContinuedFrom(ctx, head)
		if err != nil {
			return 0, err
		}
		if prev == 0 {
			return head, nil
		}
		head = prev
	}
	return 0, fmt.Errorf("chain of job %d: longer than %d jobs", id, maxChain)
}
