package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

const selectJob = `SELECT id, connection, source, status, created_at, updated_at, started_at, ended_at,
	error, owner, heartbeat_at, rows, bytes, continued_by, error_class, error_on_source FROM jobs`

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface {
	Scan(dest ...any) error
}

func scanJob(r rowScanner) (Job, error) {
	var (
		j                           Job
		created, updated, heartbeat string
		started, ended              sql.NullString
		next                        sql.NullInt64
		onSource                    int
	)
	err := r.Scan(&j.ID, &j.Connection, &j.Source, &j.Status, &created, &updated, &started, &ended,
		&j.Error, &j.Owner, &heartbeat, &j.Rows, &j.Bytes, &next, &j.ErrorClass, &onSource)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("scan job: %w", err)
	}
	j.ContinuedBy = next.Int64
	j.ErrorOnSource = onSource != 0
	if j.CreatedAt, err = parseTime(created); err != nil {
		return Job{}, err
	}
	if j.UpdatedAt, err = parseTime(updated); err != nil {
		return Job{}, err
	}
	if j.HeartbeatAt, err = parseTime(heartbeat); err != nil {
		return Job{}, err
	}
	if j.StartedAt, err = parseOptTime(started); err != nil {
		return Job{}, err
	}
	if j.EndedAt, err = parseOptTime(ended); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Job returns the job with id, or ErrNotFound.
func (s *Store) Job(ctx context.Context, id int64) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, selectJob+` WHERE id = ?`, id))
	if err != nil {
		return Job{}, fmt.Errorf("get job %d: %w", id, err)
	}
	return j, nil
}

// JobFilter narrows ListJobs. Zero fields do not filter; Limit <= 0 means no
// limit.
type JobFilter struct {
	Connection string
	Status     JobStatus
	Limit      int
}

// ListJobs returns the jobs matching f, newest first.
func (s *Store) ListJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	var (
		where []string
		args  []any
	)
	if f.Connection != "" {
		where = append(where, "connection = ?")
		args = append(args, f.Connection)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	q := selectJob
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	jobs, err := queryJobs(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobs, nil
}

// querier is what *sql.DB and *sql.Tx share for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryJobs runs a selectJob query and scans every row.
func queryJobs(ctx context.Context, q querier, query string, args ...any) ([]Job, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// LastJob returns the connection's newest job with status (any status when
// empty), or ErrNotFound. Health checks use it for "last successful sync".
func (s *Store) LastJob(ctx context.Context, connection string, status JobStatus) (Job, error) {
	jobs, err := s.ListJobs(ctx, JobFilter{Connection: connection, Status: status, Limit: 1})
	if err != nil {
		return Job{}, err
	}
	if len(jobs) == 0 {
		return Job{}, fmt.Errorf("last %s job of %s: %w", status, connection, ErrNotFound)
	}
	return jobs[0], nil
}
