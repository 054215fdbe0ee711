package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrLostJob is returned to a runner whose attempt no longer owns its job:
// the job was taken over by another process (after this one stalled past
// the lease), so nothing this attempt does may be recorded any more.
var ErrLostJob = errors.New("the job was taken over by another process; this attempt may not record anything")

// ClaimAbandoned takes over, for owner, every live job whose owner stopped
// heartbeating past the lease (or is a process of this host that is gone)
// and for which eligible returns true: the job keeps its id, status and
// parts, its running attempts are failed as superseded (so a stalled
// worker that wakes is fenced off), and owner's fresh heartbeat holds it.
// The caller runs each returned job on with the syncer's Resume. Write
// transactions run one at a time, so of several replicas claiming at once
// exactly one gets each job.
func (s *Store) ClaimAbandoned(ctx context.Context, owner string, eligible func(Job) bool) ([]Job, error) {
	var claimed []Job
	err := inTx(ctx, s.db, func(tx *txn) error {
		now := s.clock()
		live, err := queryJobs(ctx, tx, selectJob+` WHERE status IN ('pending','running','incomplete') ORDER BY id`)
		if err != nil {
			return err
		}
		ts := formatTime(now)
		for _, j := range live {
			if j.Owner == owner || queued(j) || (now.Sub(j.HeartbeatAt) < s.lease && !ownerGone(j.Owner)) || !eligible(j) {
				continue
			}
			msg := "superseded: " + owner + " took the job over from " + j.Owner + ", which stopped heartbeating or exited"
			if _, err := tx.ExecContext(ctx, `UPDATE attempts SET status = ?, error = ?, ended_at = ?, updated_at = ? WHERE job_id = ? AND status = ?`,
				AttemptFailed, msg, ts, ts, j.ID, AttemptRunning); err != nil {
				return fmt.Errorf("supersede the attempts of job %d: %w", j.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET owner = ?, heartbeat_at = ?, updated_at = ? WHERE id = ?`,
				owner, ts, ts, j.ID); err != nil {
				return fmt.Errorf("take job %d over: %w", j.ID, err)
			}
			j.Owner, j.HeartbeatAt, j.UpdatedAt = owner, now, now
			claimed = append(claimed, j)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim abandoned jobs: %w", err)
	}
	return claimed, nil
}

// HeartbeatAs is Heartbeat for a runner that knows its owner name: when
// another process has taken the job over it returns ErrLostJob, so the
// stalled runner stops instead of holding the lease of a job it lost.
func (s *Store) HeartbeatAs(ctx context.Context, jobID int64, owner string) error {
	ts := formatTime(s.clock())
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET heartbeat_at = ?, updated_at = ? WHERE id = ? AND owner = ? AND status IN ('pending','running','incomplete')`,
		ts, ts, jobID, owner)
	if err != nil {
		return fmt.Errorf("heartbeat job %d: %w", jobID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		if err != nil {
			return fmt.Errorf("heartbeat job %d: %w", jobID, err)
		}
		return nil
	}
	j, err := s.Job(ctx, jobID)
	if err != nil {
		return fmt.Errorf("heartbeat job %d: %w", jobID, err)
	}
	if j.Status.Terminal() {
		return fmt.Errorf("heartbeat job %d: %w (status %s)", jobID, ErrJobEnded, j.Status)
	}
	return fmt.Errorf("heartbeat job %d: %w (now run by %s)", jobID, ErrLostJob, j.Owner)
}

// fence returns ErrLostJob unless attempt number of job is still running
// (a takeover, ClaimAbandoned or a later StartAttempt, has failed it), and
// ErrJobEnded when the job has ended (cancelled through another replica).
// It runs inside the write transaction of the record it guards.
func fence(ctx context.Context, tx *txn, jobID int64, number int) error {
	var (
		st  AttemptStatus
		job JobStatus
	)
	err := tx.QueryRowContext(ctx, `SELECT a.status, j.status FROM attempts a JOIN jobs j ON j.id = a.job_id
		WHERE a.job_id = ? AND a.number = ?`, jobID, number).Scan(&st, &job)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("attempt %d of job %d: %w", number, jobID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("attempt %d of job %d: %w", number, jobID, err)
	}
	if job.Terminal() {
		return fmt.Errorf("job %d is %s: %w", jobID, job, ErrJobEnded)
	}
	if st != AttemptRunning {
		return fmt.Errorf("attempt %d of job %d is %s: %w", number, jobID, st, ErrLostJob)
	}
	return nil
}

// CheckAttempt returns ErrLostJob when attempt number of job no longer
// runs; a runner asks before an irreversible step in storage (publishing a
// manifest), whose record is then fenced again.
func (s *Store) CheckAttempt(ctx context.Context, jobID int64, number int) error {
	return inTx(ctx, s.db, func(tx *txn) error { return fence(ctx, tx, jobID, number) })
}
