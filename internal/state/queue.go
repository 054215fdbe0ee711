package state

import (
	"context"
	"fmt"
)

// A live job with no owner is queued work: it was enqueued (EnqueueJob) or
// handed back by a replica that shut down (ReleaseJob), and whichever
// replica has a free slot claims it (ClaimQueued) and runs it under its
// id. Nobody heartbeats a queued job, so the lease rules that fail or take
// over a job whose owner went silent do not apply to it: it waits, holding
// its connection's slot, until it is claimed or cancelled.

// queued reports whether j waits in the queue for a replica to claim it.
func queued(j Job) bool { return j.Owner == "" && !j.Status.Terminal() }

// Queued reports whether j is queued work no process runs yet.
func (j Job) Queued() bool { return queued(j) }

// EnqueueJob records a pending job of connection that no process runs yet,
// for ClaimQueued to hand to a replica with a free slot. As CreateJob, it
// returns *AlreadyRunningError when the connection has a live job.
func (s *Store) EnqueueJob(ctx context.Context, connection, source string) (Job, error) {
	return s.CreateJob(ctx, connection, source, "")
}

// ClaimQueued gives owner up to limit queued jobs for which eligible
// returns true, oldest first, each by a compare-and-set on its owner: of
// several replicas claiming at once exactly one gets each job. A claimed
// job keeps its id, status, attempts and parts; the caller runs it with the
// syncer's Resume under owner.
func (s *Store) ClaimQueued(ctx context.Context, owner string, limit int, eligible func(Job) bool) ([]Job, error) {
	if limit <= 0 || owner == "" {
		return nil, nil
	}
	// Read outside a write transaction: most polls find nothing, and they
	// must not queue behind the writers of running jobs.
	waiting, err := queryJobs(ctx, s.db, selectJob+` WHERE owner = '' AND status IN ('pending','running','incomplete') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list queued jobs: %w", err)
	}
	var claimed []Job
	for _, j := range waiting {
		if len(claimed) >= limit {
			break
		}
		if !eligible(j) {
			continue
		}
		now := s.clock()
		ts := formatTime(now)
		res, err := s.db.ExecContext(ctx, `UPDATE jobs SET owner = ?, heartbeat_at = ?, updated_at = ?
			WHERE id = ? AND owner = '' AND status IN ('pending','running','incomplete')`, owner, ts, ts, j.ID)
		if err != nil {
			return claimed, fmt.Errorf("claim queued job %d: %w", j.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return claimed, fmt.Errorf("claim queued job %d: %w", j.ID, err)
			}
			continue // another replica was first
		}
		j.Owner, j.HeartbeatAt, j.UpdatedAt = owner, now, now
		claimed = append(claimed, j)
	}
	return claimed, nil
}

// ReleaseJob hands a live job owner runs back to the queue: a replica that
// shuts down stops the job at a safe point (its uploaded parts recorded)
// and releases it, so another replica claims it at once instead of after
// the lease. Its attempts still running are failed with reason (the
// releasing runner can record nothing more), its status stays as it is.
// A job owner no longer holds, or one that has ended, gives ErrLostJob or
// ErrJobEnded and is left alone.
func (s *Store) ReleaseJob(ctx context.Context, jobID int64, owner, reason string) error {
	err := inTx(ctx, s.db, func(tx *txn) error {
		j, err := scanJob(tx.QueryRowContext(ctx, selectJob+` WHERE id = ?`, jobID))
		if err != nil {
			return err
		}
		if j.Status.Terminal() {
			return fmt.Errorf("%w (status %s)", ErrJobEnded, j.Status)
		}
		if j.Owner != owner {
			return fmt.Errorf("%w (now run by %s)", ErrLostJob, j.Owner)
		}
		ts := formatTime(s.clock())
		if _, err := tx.ExecContext(ctx, `UPDATE attempts SET status = ?, error = ?, ended_at = ?, updated_at = ? WHERE job_id = ? AND status = ?`,
			AttemptFailed, reason, ts, ts, jobID, AttemptRunning); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET owner = '', heartbeat_at = ?, updated_at = ? WHERE id = ?`, ts, ts, jobID)
		return err
	})
	if err != nil {
		return fmt.Errorf("release job %d: %w", jobID, err)
	}
	return nil
}
