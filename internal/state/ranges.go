package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// schemaV12 adds the range tasks of streams whose primary-key ranges are
// read by workers on any replica (scale-out): one row per range of a job's
// stream, claimed under a lease and a fencing token, and done once its part
// is recorded. The rows of the running reads (status claimed, reading 1,
// lease unexpired) of one source are its share of the cluster's read budget.
const schemaV12 = `
CREATE TABLE range_tasks (
	job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	stream      TEXT    NOT NULL,
	range_index INTEGER NOT NULL,
	source      TEXT    NOT NULL,
	budget      INTEGER NOT NULL,
	attempt     INTEGER NOT NULL,
	status      TEXT    NOT NULL CHECK (status IN ('queued','claimed','done','failed')),
	claim       INTEGER NOT NULL DEFAULT 0,
	owner       TEXT    NOT NULL DEFAULT '',
	reading     INTEGER NOT NULL DEFAULT 0,
	lease_until TEXT    NOT NULL DEFAULT '',
	failures    INTEGER NOT NULL DEFAULT 0,
	error       TEXT    NOT NULL DEFAULT '',
	part_key    TEXT    NOT NULL DEFAULT '',
	updated_at  TEXT    NOT NULL,
	PRIMARY KEY (job_id, stream, range_index)
);
CREATE INDEX range_tasks_by_status ON range_tasks (status, source);
`

// ErrLostRange is returned to a range worker whose claim is no longer the
// range's: its lease ran out and another worker claimed the range, or the
// job's owner queued it again for a new attempt. Nothing it read may be
// recorded.
var ErrLostRange = errors.New("the range was claimed by another worker; this read may not record anything")

// RangeTaskStatus is where a range task is.
type RangeTaskStatus string

const (
	RangeQueued  RangeTaskStatus = "queued"  // waits for a worker
	RangeClaimed RangeTaskStatus = "claimed" // a worker reads or uploads it
	RangeDone    RangeTaskStatus = "done"    // its part is recorded
	RangeFailed  RangeTaskStatus = "failed"  // failed MaxRangeFailures times: the stream fails
)

// MaxRangeFailures is how many failed reads of one range a job's attempt
// accepts before the task is failed (and with it the stream's attempt).
const MaxRangeFailures = 3

// RangeTask is one primary-key range of a job's stream, queued for a
// worker on any replica.
type RangeTask struct {
	JobID      int64
	Connection string // of the job
	Stream     string
	Index      int    // into the stream's saved plan
	Source     string // the budget's key: the source resource the job reads
	Budget     int    // the source's max_parallel_reads across the cluster
	Attempt    int    // the job attempt that queued it: records are fenced by it
	Status     RangeTaskStatus
	Claim      int64 // fencing token, bumped at every claim and every re-queue
	Owner      string
	Reading    bool // the claim counts as one of the source's reads (until EndRead)
	Failures   int
	Error      string
	PartKey    string
}

// QueueRanges queues the ranges indexes of a job's stream for attempt:
// new tasks are created, and tasks an earlier attempt left unfinished are
// queued again under a new claim token, so a worker of that attempt can no
// longer record them. budget is the source's max_parallel_reads.
func (s *Store) QueueRanges(ctx context.Context, jobID int64, stream, source string, budget, attempt int, indexes []int) error {
	ts := formatTime(s.clock())
	err := inTx(ctx, s.db, func(tx *txn) error {
		for _, i := range indexes {
			_, err := tx.ExecContext(ctx, `INSERT INTO range_tasks (job_id, stream, range_index, source, budget, attempt, status, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)
			ON CONFLICT (job_id, stream, range_index) DO UPDATE SET source = excluded.source, budget = excluded.budget,
				attempt = excluded.attempt, status = 'queued', claim = range_tasks.claim + 1, owner = '', reading = 0,
				lease_until = '', failures = 0, error = '', part_key = '', updated_at = excluded.updated_at`,
				jobID, stream, i, source, budget, attempt, ts)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue %d ranges of job %d stream %s: %w", len(indexes), jobID, stream, err)
	}
	return nil
}

// ClaimRange gives owner the next range task any worker may take: queued,
// or claimed by a worker whose lease ran out (or, on this host, whose
// process is gone), of a job still live, whose source has a read left in
// its budget. The claim holds for lease and counts as one of the source's
// reads until EndRead. ok is false when nothing can be claimed now.
func (s *Store) ClaimRange(ctx context.Context, owner string, lease time.Duration) (task RangeTask, ok bool, err error) {
	err = inTx(ctx, s.db, func(tx *txn) error {
		now := s.clock()
		ts := formatTime(now)
		busy, full, err := activeReads(ctx, tx, now)
		if err != nil {
			return err
		}
		cands, err := claimable(ctx, tx, now, full)
		if err != nil {
			return err
		}
		for _, c := range cands {
			if busy[c.Source] >= max(1, c.Budget) {
				continue
			}
			c.Claim++
			c.Owner, c.Status = owner, RangeClaimed
			_, err := tx.ExecContext(ctx, `UPDATE range_tasks SET status = 'claimed', claim = ?, owner = ?, reading = 1,
				lease_until = ?, updated_at = ? WHERE job_id = ? AND stream = ? AND range_index = ?`,
				c.Claim, owner, formatTime(now.Add(lease)), ts, c.JobID, c.Stream, c.Index)
			if err != nil {
				return err
			}
			task, ok = c, true
			return nil
		}
		return nil
	})
	if err != nil {
		return RangeTask{}, false, fmt.Errorf("claim a range task: %w", err)
	}
	return task, ok, nil
}

// activeReads counts, per source, the range reads running under a live
// claim (the part of each source's budget in use), and lists the sources
// whose budget is all in use.
func activeReads(ctx context.Context, tx *txn, now time.Time) (busy map[string]int, full []string, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT source, budget, owner, lease_until FROM range_tasks WHERE status = 'claimed' AND reading = 1`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	busy, budget := map[string]int{}, map[string]int{}
	for rows.Next() {
		var (
			source, owner, until string
			b                    int
		)
		if err := rows.Scan(&source, &b, &owner, &until); err != nil {
			return nil, nil, err
		}
		if live(now, owner, until) {
			busy[source]++
			budget[source] = max(budget[source], b)
		}
	}
	for src, n := range busy {
		if n >= max(1, budget[src]) {
			full = append(full, src)
		}
	}
	return busy, full, rows.Err()
}

// claimBatch bounds the queued tasks one claim reads: a 5-billion-row
// table queues thousands, and the claim runs under the write lock.
const claimBatch = 64

// claimable lists the tasks a worker may claim now: claims whose lease
// ran out first (their stream waits for them), then queued tasks of
// sources with a read left, oldest job first and in range order, so one
// stream's ranges are read before the next's.
func claimable(ctx context.Context, tx *txn, now time.Time, full []string) ([]RangeTask, error) {
	// Claimed tasks are few (one per running worker): all are read, to
	// find the expired ones and those of a dead process of this host.
	claimed, err := queryTasks(ctx, tx, now, `t.status = 'claimed'`, "")
	if err != nil {
		return nil, err
	}
	var out []RangeTask
	for _, c := range claimed {
		if !c.live {
			out = append(out, c.RangeTask)
		}
	}
	where, args := `t.status = 'queued'`, []any{}
	if len(full) > 0 {
		where += ` AND t.source NOT IN (?` + strings.Repeat(`, ?`, len(full)-1) + `)`
		for _, src := range full {
			args = append(args, src)
		}
	}
	queued, err := queryTasks(ctx, tx, now, where, ` LIMIT `+strconv.Itoa(claimBatch), args...)
	if err != nil {
		return nil, err
	}
	for _, q := range queued {
		out = append(out, q.RangeTask)
	}
	return out, nil
}

// liveTask is a task with whether its claim still holds.
type liveTask struct {
	RangeTask
	live bool
}

// queryTasks reads the tasks of live jobs matching where, in claim order.
func queryTasks(ctx context.Context, tx *txn, now time.Time, where, limit string, args ...any) ([]liveTask, error) {
	rows, err := tx.QueryContext(ctx, `SELECT t.job_id, j.connection, t.stream, t.range_index, t.source, t.budget, t.attempt,
		t.status, t.claim, t.owner, t.lease_until, t.failures
		FROM range_tasks t JOIN jobs j ON j.id = t.job_id
		WHERE `+where+` AND j.status IN ('pending','running','incomplete')
		ORDER BY t.job_id, t.stream, t.range_index`+limit, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []liveTask
	for rows.Next() {
		var (
			t     liveTask
			until string
		)
		if err := rows.Scan(&t.JobID, &t.Connection, &t.Stream, &t.Index, &t.Source, &t.Budget, &t.Attempt,
			&t.Status, &t.Claim, &t.Owner, &until, &t.Failures); err != nil {
			return nil, err
		}
		t.live = t.Status == RangeClaimed && live(now, t.Owner, until)
		out = append(out, t)
	}
	return out, rows.Err()
}

// live says whether a claim still holds: its lease has not run out and its
// owner is not a process of this host known to be gone.
func live(now time.Time, owner, until string) bool {
	t, err := parseTime(until)
	return err == nil && now.Before(t) && !ownerGone(owner)
}

// RenewRange extends a claim's lease; ErrLostRange when the claim is no
// longer the range's, ErrLostJob or ErrJobEnded when the job's attempt no
// longer runs (taken over, cancelled): the worker stops reading at once
// instead of holding a read of the source's budget for nothing.
func (s *Store) RenewRange(ctx context.Context, t RangeTask, lease time.Duration) error {
	now := s.clock()
	return s.updateClaim(ctx, t, "renew", true, `UPDATE range_tasks SET lease_until = ?, updated_at = ?
		WHERE job_id = ? AND stream = ? AND range_index = ? AND claim = ? AND status = 'claimed'`,
		formatTime(now.Add(lease)), formatTime(now))
}

// ReleaseRange gives a claimed range back to the queue without counting a
// failure, under a new claim token: its worker stops (serve shuts down),
// and another may claim it at once instead of after the lease.
func (s *Store) ReleaseRange(ctx context.Context, t RangeTask) error {
	return s.updateClaim(ctx, t, "release", false, `UPDATE range_tasks SET status = 'queued', claim = claim + 1,
		owner = '', reading = 0, lease_until = '', updated_at = ?
		WHERE job_id = ? AND stream = ? AND range_index = ? AND claim = ? AND status = 'claimed'`,
		formatTime(s.clock()))
}

// EndRead says the claim's read of the source is over (its part is being
// uploaded): the source's budget has a read free again.
func (s *Store) EndRead(ctx context.Context, t RangeTask) error {
	return s.updateClaim(ctx, t, "end the read of", false, `UPDATE range_tasks SET reading = 0, updated_at = ?
		WHERE job_id = ? AND stream = ? AND range_index = ? AND claim = ? AND status = 'claimed'`,
		formatTime(s.clock()))
}

// FailRange gives a claimed range back to the queue after a failed read,
// or fails the task once it has failed MaxRangeFailures times.
func (s *Store) FailRange(ctx context.Context, t RangeTask, cause error) error {
	msg := cause.Error()
	return s.updateClaim(ctx, t, "fail", false, `UPDATE range_tasks SET
		status = CASE WHEN failures + 1 >= `+fmt.Sprint(MaxRangeFailures)+` THEN 'failed' ELSE 'queued' END,
		failures = failures + 1, error = ?, owner = '', reading = 0, lease_until = '', updated_at = ?
		WHERE job_id = ? AND stream = ? AND range_index = ? AND claim = ? AND status = 'claimed'`,
		msg, formatTime(s.clock()))
}

// updateClaim runs query on the task's row under its claim; ErrLostRange
// when the claim is no longer the range's. fenced also checks the job's
// attempt (fence).
func (s *Store) updateClaim(ctx context.Context, t RangeTask, what string, fenced bool, query string, args ...any) error {
	args = append(args, t.JobID, t.Stream, t.Index, t.Claim)
	err := inTx(ctx, s.db, func(tx *txn) error {
		if fenced {
			if err := fence(ctx, tx, t.JobID, t.Attempt); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return ErrLostRange
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s range %d of job %d stream %s: %w", what, t.Index, t.JobID, t.Stream, err)
	}
	return nil
}

// RecordRangePart records the part holding a claimed range (none when
// p.Key is empty: the range held no row) and marks the task done, in one transaction fenced twice: by the claim (ErrLostRange
// when another worker holds the range now) and by the job's attempt
// (ErrLostJob or ErrJobEnded, as RecordPart).
func (s *Store) RecordRangePart(ctx context.Context, t RangeTask, p Part) error {
	err := inTx(ctx, s.db, func(tx *txn) error {
		if err := fence(ctx, tx, t.JobID, t.Attempt); err != nil {
			return err
		}
		var claim int64
		var status RangeTaskStatus
		err := tx.QueryRowContext(ctx, `SELECT claim, status FROM range_tasks WHERE job_id = ? AND stream = ? AND range_index = ?`,
			t.JobID, t.Stream, t.Index).Scan(&claim, &status)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (claim != t.Claim || status != RangeClaimed)) {
			return ErrLostRange
		}
		if err != nil {
			return err
		}
		if p.Key != "" { // no key: the range held no row, so no part
			if err := insertPart(ctx, tx, p, s.clock()); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE range_tasks SET status = 'done', reading = 0, part_key = ?, updated_at = ?
			WHERE job_id = ? AND stream = ? AND range_index = ?`, p.Key, formatTime(s.clock()), t.JobID, t.Stream, t.Index)
		return err
	})
	if err != nil {
		return fmt.Errorf("record part %s of range %d of job %d: %w", p.Key, t.Index, t.JobID, err)
	}
	return nil
}

// RangeTasks returns the tasks of a job's stream in range order.
func (s *Store) RangeTasks(ctx context.Context, jobID int64, stream string) ([]RangeTask, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.job_id, j.connection, t.stream, t.range_index, t.source, t.budget, t.attempt,
		t.status, t.claim, t.owner, t.reading, t.failures, t.error, t.part_key
		FROM range_tasks t JOIN jobs j ON j.id = t.job_id WHERE t.job_id = ? AND t.stream = ? ORDER BY t.range_index`, jobID, stream)
	if err != nil {
		return nil, fmt.Errorf("range tasks of job %d stream %s: %w", jobID, stream, err)
	}
	defer rows.Close()
	var out []RangeTask
	for rows.Next() {
		var (
			t       RangeTask
			reading int
		)
		if err := rows.Scan(&t.JobID, &t.Connection, &t.Stream, &t.Index, &t.Source, &t.Budget, &t.Attempt,
			&t.Status, &t.Claim, &t.Owner, &reading, &t.Failures, &t.Error, &t.PartKey); err != nil {
			return nil, fmt.Errorf("range tasks of job %d stream %s: %w", jobID, stream, err)
		}
		t.Reading = reading == 1 && t.Status == RangeClaimed
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("range tasks of job %d stream %s: %w", jobID, stream, err)
	}
	return out, nil
}

// DeleteRangeTasks forgets the tasks of a job's stream once its reads are
// over (all done, or the attempt gave up).
func (s *Store) DeleteRangeTasks(ctx context.Context, jobID int64, stream string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM range_tasks WHERE job_id = ? AND stream = ?`, jobID, stream); err != nil {
		return fmt.Errorf("delete range tasks of job %d stream %s: %w", jobID, stream, err)
	}
	return nil
}
