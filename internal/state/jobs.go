package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// JobStatus is a job's state in Airbyte's words, so the Airflow-facing API
// can return it unchanged.
type JobStatus string

const (
	JobPending    JobStatus = "pending"
	JobRunning    JobStatus = "running"
	JobIncomplete JobStatus = "incomplete" // an attempt failed; another attempt follows
	JobFailed     JobStatus = "failed"
	JobSucceeded  JobStatus = "succeeded"
	JobCancelled  JobStatus = "cancelled"
)

// Valid reports whether st is one of Airbyte's six job statuses.
func (st JobStatus) Valid() bool {
	switch st {
	case JobPending, JobRunning, JobIncomplete, JobFailed, JobSucceeded, JobCancelled:
		return true
	}
	return false
}

// Terminal reports whether a job in st has ended for good. The other
// statuses hold the connection's single job slot.
func (st JobStatus) Terminal() bool {
	return st == JobFailed || st == JobSucceeded || st == JobCancelled
}

// Job is one sync run of a connection. Retries are Attempts of the same Job.
type Job struct {
	ID          int64
	Connection  string
	Source      string // "primary" or "backup": which MySQL the job reads
	Status      JobStatus
	CreatedAt   time.Time
	UpdatedAt   time.Time
	StartedAt   *time.Time // first attempt start; nil while pending
	EndedAt     *time.Time // set on a terminal status
	Error       string
	Owner       string // host:pid of the process running the job
	HeartbeatAt time.Time
	Rows        int64
	Bytes       int64
	// ErrorClass and ErrorOnSource keep a failed job's failure as the
	// failover machine reads it (failure.Class; a source-side failure), so
	// a replica continuing the job's run can feed it to the machine.
	ErrorClass    string
	ErrorOnSource bool
	// ContinuedBy is the job that took over when this one failed inside a
	// failover run (the backup's job continuing the primary's); 0 when
	// none. The chain's last job says how the run ended.
	ContinuedBy int64
}

// DefaultOwner names this process as host:pid, the form Job.Owner takes, so
// a user reading "already running" knows where to look.
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// CreateJob starts a pending job for connection, owned by owner. A connection
// runs one job at a time: if its live job's heartbeat is fresher than the
// lease, CreateJob returns *AlreadyRunningError. A live job whose heartbeat is
// stale, or whose owner process on this host is gone, belonged to a process
// that died (kill -9, power loss); it is marked
// failed, with its running attempts, and the new job proceeds. Check and
// insert share one write transaction, so across processes exactly one of
// several racing callers wins.
func (s *Store) CreateJob(ctx context.Context, connection, source, owner string) (Job, error) {
	return s.createJob(ctx, connection, source, owner, 0, RunLease{})
}

// createJob is CreateJob that, in the same transaction, checks the run's
// grant l first and links the new job as prev's continuation (prev 0: none).
func (s *Store) createJob(ctx context.Context, connection, source, owner string, prev int64, l RunLease) (Job, error) {
	if connection == "" {
		return Job{}, errors.New("create job: empty connection")
	}
	var job Job
	err := inTx(ctx, s.db, func(tx *txn) error {
		if err := checkRun(ctx, tx, l); err != nil {
			return err
		}
		now := s.clock()
		live, err := scanJob(tx.QueryRowContext(ctx, selectJob+` WHERE connection = ? AND status IN ('pending','running','incomplete')`, connection))
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case queued(live) || (now.Sub(live.HeartbeatAt) < s.lease && !ownerGone(live.Owner)):
			return &AlreadyRunningError{Connection: connection, JobID: live.ID, Status: live.Status,
				Owner: live.Owner, Since: live.CreatedAt, HeartbeatAt: live.HeartbeatAt}
		default:
			if err := abandon(ctx, tx, live, now); err != nil {
				return err
			}
		}
		ts := formatTime(now)
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO jobs (connection, source, status, created_at, updated_at, owner, heartbeat_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, connection, source, JobPending, ts, ts, owner, ts).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert job: %w", err)
		}
		if prev != 0 {
			if err := continueJob(ctx, tx, prev, id); err != nil {
				return err
			}
		}
		job = Job{ID: id, Connection: connection, Source: source, Status: JobPending,
			CreatedAt: now, UpdatedAt: now, Owner: owner, HeartbeatAt: now}
		return nil
	})
	var busy *AlreadyRunningError
	if errors.As(err, &busy) {
		return Job{}, busy // already names the connection; the user reads it as is
	}
	if err != nil {
		return Job{}, fmt.Errorf("create job for %s: %w", connection, err)
	}
	return job, nil
}

// abandon fails a live job whose owner stopped heartbeating.
func abandon(ctx context.Context, tx *txn, j Job, now time.Time) error {
	msg := abandonedMsg(j.Owner)
	ts := formatTime(now)
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, error = ?, ended_at = ?, updated_at = ? WHERE id = ?`,
		JobFailed, msg, ts, ts, j.ID); err != nil {
		return fmt.Errorf("mark job %d abandoned: %w", j.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE attempts SET status = ?, error = ?, ended_at = ?, updated_at = ? WHERE job_id = ? AND status = ?`,
		AttemptFailed, msg, ts, ts, j.ID, AttemptRunning); err != nil {
		return fmt.Errorf("mark job %d attempts abandoned: %w", j.ID, err)
	}
	return nil
}

func abandonedMsg(owner string) string {
	return "abandoned: owner " + owner + " stopped heartbeating or exited"
}

// Heartbeat tells other processes the job's owner is alive. It returns
// ErrJobEnded when the job has ended meanwhile (cancelled, or declared
// abandoned after a long stall): the runner must stop writing.
func (s *Store) Heartbeat(ctx context.Context, jobID int64) error {
	ts := formatTime(s.clock())
	return s.updateLiveJob(ctx, jobID, "heartbeat", `UPDATE jobs SET heartbeat_at = ?, updated_at = ? WHERE id = ? AND status IN ('pending','running','incomplete')`, ts, ts, jobID)
}

// SetJobStatus moves a live job to status, recording errMsg. A terminal
// status sets EndedAt; running sets StartedAt the first time. Changing a job
// that has already ended returns ErrJobEnded, so a late runner cannot
// overwrite a cancel or an abandonment.
func (s *Store) SetJobStatus(ctx context.Context, jobID int64, status JobStatus, errMsg string) error {
	return s.setStatus(ctx, jobID, status, errMsg, -1, -1)
}

// FinishFailedJob is FinishJob for a job that failed, recording the
// failure's class and side as well (Job.ErrorClass, Job.ErrorOnSource) in
// the same write.
func (s *Store) FinishFailedJob(ctx context.Context, jobID int64, errMsg, class string, onSource bool, rows, bytes int64) error {
	now := formatTime(s.clock())
	return s.updateLiveJob(ctx, jobID, "finish", `UPDATE jobs SET status = ?, error = ?, error_class = ?, error_on_source = ?,
		updated_at = ?, heartbeat_at = ?, ended_at = ?,
		rows = CASE WHEN ? >= 0 THEN ? ELSE rows END, bytes = CASE WHEN ? >= 0 THEN ? ELSE bytes END
		WHERE id = ? AND status IN ('pending','running','incomplete')`,
		JobFailed, errMsg, class, boolInt(onSource), now, now, now, rows, rows, bytes, bytes, jobID)
}

// FinishJob ends a job with its final status and totals.
func (s *Store) FinishJob(ctx context.Context, jobID int64, status JobStatus, errMsg string, rows, bytes int64) error {
	if !status.Terminal() {
		return fmt.Errorf("finish job %d: %q is not a terminal status", jobID, status)
	}
	return s.setStatus(ctx, jobID, status, errMsg, rows, bytes)
}

// setStatus is SetJobStatus that also replaces the job's totals; a negative
// rows or bytes leaves that total as it was.
func (s *Store) setStatus(ctx context.Context, jobID int64, status JobStatus, errMsg string, rows, bytes int64) error {
	if !status.Valid() {
		return fmt.Errorf("set job %d status: unknown status %q", jobID, status)
	}
	now := formatTime(s.clock())
	var ended any
	if status.Terminal() {
		ended = now
	}
	var started any
	if status == JobRunning {
		started = now
	}
	return s.updateLiveJob(ctx, jobID, "set status", `UPDATE jobs SET status = ?, error = ?, updated_at = ?, heartbeat_at = ?,
		ended_at = ?, started_at = COALESCE(started_at, ?),
		rows = CASE WHEN ? >= 0 THEN ? ELSE rows END, bytes = CASE WHEN ? >= 0 THEN ? ELSE bytes END
		WHERE id = ? AND status IN ('pending','running','incomplete')`,
		status, errMsg, now, now, ended, started, rows, rows, bytes, bytes, jobID)
}

// AddJobTotals adds rows and bytes to a live job's running totals, so status
// pages show progress before the job ends.
func (s *Store) AddJobTotals(ctx context.Context, jobID int64, rows, bytes int64) error {
	ts := formatTime(s.clock())
	return s.updateLiveJob(ctx, jobID, "add totals", `UPDATE jobs SET rows = rows + ?, bytes = bytes + ?, updated_at = ?, heartbeat_at = ?
		WHERE id = ? AND status IN ('pending','running','incomplete')`, rows, bytes, ts, ts, jobID)
}

// updateLiveJob runs an UPDATE guarded by "job is live"; when it touches no
// row it tells ErrNotFound from ErrJobEnded.
func (s *Store) updateLiveJob(ctx context.Context, jobID int64, what, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s job %d: %w", what, jobID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s job %d: %w", what, jobID, err)
	}
	if n > 0 {
		return nil
	}
	j, err := s.Job(ctx, jobID)
	if err != nil {
		return fmt.Errorf("%s job %d: %w", what, jobID, err)
	}
	return fmt.Errorf("%s job %d: %w (status %s)", what, jobID, ErrJobEnded, j.Status)
}

// ReapAbandoned fails every live job whose heartbeat is older than the
// lease, as CreateJob does for one connection, and returns them as they are
// now; a queued job (no owner) waits for a claim instead. The long-running service calls it periodically so that a job whose
// process was killed reads "failed" to pollers (Airflow) without waiting for
// the connection's next run.
func (s *Store) ReapAbandoned(ctx context.Context) ([]Job, error) {
	var reaped []Job
	err := inTx(ctx, s.db, func(tx *txn) error {
		now := s.clock()
		stale, err := queryJobs(ctx, tx, selectJob+` WHERE status IN ('pending','running','incomplete') AND owner <> '' AND heartbeat_at < ? ORDER BY id`,
			formatTime(now.Add(-s.lease)))
		if err != nil {
			return err
		}
		for _, j := range stale {
			if err := abandon(ctx, tx, j, now); err != nil {
				return err
			}
			j.Status, j.Error = JobFailed, abandonedMsg(j.Owner)
			ended := now
			j.EndedAt, j.UpdatedAt = &ended, now
			reaped = append(reaped, j)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reap abandoned jobs: %w", err)
	}
	return reaped, nil
}
