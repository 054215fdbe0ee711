package state

import (
	"context"
	"fmt"
	"time"
)

// The queries below feed period summaries such as the daily status e-mail:
// everything that happened since a time, oldest first.

// JobsSince returns the jobs created at or after since, oldest first.
func (s *Store) JobsSince(ctx context.Context, since time.Time) ([]Job, error) {
	jobs, err := queryJobs(ctx, s.db, selectJob+` WHERE created_at >= ? ORDER BY id`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("jobs since %s: %w", since.Format(time.RFC3339), err)
	}
	return jobs, nil
}

// HealthSince returns the health results checked at or after since, oldest
// first.
func (s *Store) HealthSince(ctx context.Context, since time.Time) ([]HealthRecord, error) {
	return s.queryHealth(ctx, selectHealth+` WHERE checked_at >= ? ORDER BY id`, formatTime(since))
}

// TransitionsSince returns the failover transitions of every pair at or
// after since, oldest first.
func (s *Store) TransitionsSince(ctx context.Context, since time.Time) ([]FailoverTransition, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, pair, from_state, to_state, who, reason, class, at
		FROM failover_transitions WHERE at >= ? ORDER BY id`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("failover transitions since %s: %w", since.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []FailoverTransition
	for rows.Next() {
		var (
			tr FailoverTransition
			at string
		)
		if err := rows.Scan(&tr.ID, &tr.Pair, &tr.From, &tr.To, &tr.Who, &tr.Reason, &tr.Class, &at); err != nil {
			return nil, fmt.Errorf("failover transitions: %w", err)
		}
		if tr.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failover transitions: %w", err)
	}
	return out, nil
}

// QualitySince returns the data-quality outcomes recorded at or after
// since, oldest first, without their JSON report and statistics.
func (s *Store) QualitySince(ctx context.Context, since time.Time) ([]QualityReport, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT job_id, connection, stream, partition, status, score, errors, warnings, created_at
		FROM quality_reports WHERE created_at >= ? ORDER BY created_at, job_id, stream`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("quality reports since %s: %w", since.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []QualityReport
	for rows.Next() {
		var (
			r  QualityReport
			at string
		)
		if err := rows.Scan(&r.JobID, &r.Connection, &r.Stream, &r.Partition, &r.Status, &r.Score, &r.Errors, &r.Warnings, &at); err != nil {
			return nil, fmt.Errorf("quality reports: %w", err)
		}
		if r.CreatedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quality reports: %w", err)
	}
	return out, nil
}
