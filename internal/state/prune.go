package state

import (
	"context"
	"fmt"
	"time"
)

// PruneResult counts the rows PruneEndedJobs deleted.
type PruneResult struct {
	Jobs       int   // ended jobs whose rows were deleted
	RangeTasks int64 // range_tasks rows
	Parts      int64 // parts rows
	Plans      int64 // plans rows
}

// pruneTables are the per-job rows only a live job reads: its attempts
// resume from them (parts, plans), range workers claim and record them
// (range_tasks). Once the job has ended nothing reads them again, except
// the ending process's discard of a failed job's pending uploads, which
// runs right at the end; the retention covers it with a wide margin.
// Each delete takes at most a batch of rows, by primary key.
var pruneTables = []struct {
	name, key string
}{
	{"range_tasks", "stream, range_index"},
	{"parts", "stream, key"},
	{"plans", "stream"},
}

// PruneEndedJobs deletes the range tasks, parts and plans of jobs that
// ended (succeeded, failed or cancelled) before before, at most batch rows
// per statement, each statement its own transaction, so a sweep of a
// large backlog never holds the write lock long. Job, attempt and stream
// result rows stay: they are the job's history. A job that is still
// live (pending, running, incomplete: its next attempt or a takeover
// resumes from these rows) is never touched, however old.
func (s *Store) PruneEndedJobs(ctx context.Context, before time.Time, batch int) (PruneResult, error) {
	var res PruneResult
	if batch < 1 {
		batch = 1
	}
	ids, err := s.endedJobsWithRows(ctx, before)
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		for _, tb := range pruneTables {
			n, err := s.pruneJobTable(ctx, id, tb.name, tb.key, batch)
			if err != nil {
				return res, err
			}
			switch tb.name {
			case "range_tasks":
				res.RangeTasks += n
			case "parts":
				res.Parts += n
			case "plans":
				res.Plans += n
			}
		}
		res.Jobs++
	}
	return res, nil
}

// endedJobsWithRows lists the jobs ended before before that still have
// rows in one of pruneTables, oldest first.
func (s *Store) endedJobsWithRows(ctx context.Context, before time.Time) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT j.id FROM jobs j
		WHERE j.status IN ('succeeded','failed','cancelled') AND COALESCE(j.ended_at, j.updated_at) < ?
		AND (EXISTS (SELECT 1 FROM range_tasks t WHERE t.job_id = j.id)
			OR EXISTS (SELECT 1 FROM parts p WHERE p.job_id = j.id)
			OR EXISTS (SELECT 1 FROM plans l WHERE l.job_id = j.id))
		ORDER BY j.id`, formatTime(before))
	if err != nil {
		return nil, fmt.Errorf("list ended jobs to prune: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list ended jobs to prune: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list ended jobs to prune: %w", err)
	}
	return ids, nil
}

// pruneJobTable deletes a job's rows of table, batch rows at a time.
func (s *Store) pruneJobTable(ctx context.Context, jobID int64, table, key string, batch int) (int64, error) {
	q := `DELETE FROM ` + table + ` WHERE job_id = ? AND (` + key + `) IN
		(SELECT ` + key + ` FROM ` + table + ` WHERE job_id = ? LIMIT ?)`
	var total int64
	for {
		r, err := s.db.ExecContext(ctx, q, jobID, jobID, batch)
		if err != nil {
			return total, fmt.Errorf("prune %s of ended job %d: %w", table, jobID, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune %s of ended job %d: %w", table, jobID, err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}
