package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// schemaV4 keeps the data-quality outcome of every stream a job wrote: its
// score and the statistics and rule results as JSON (their shape belongs to
// package quality), so a report can be shown without reading the bucket.
const schemaV4 = `
CREATE TABLE quality_reports (
	job_id     INTEGER NOT NULL,
	connection TEXT    NOT NULL,
	stream     TEXT    NOT NULL,
	partition  TEXT    NOT NULL DEFAULT '',
	status     TEXT    NOT NULL DEFAULT '',
	score      REAL    NOT NULL DEFAULT 0,
	errors     INTEGER NOT NULL DEFAULT 0,
	warnings   INTEGER NOT NULL DEFAULT 0,
	report     TEXT    NOT NULL DEFAULT '{}',
	stats      TEXT    NOT NULL DEFAULT '{}',
	created_at TEXT    NOT NULL,
	PRIMARY KEY (job_id, stream)
);
CREATE INDEX quality_by_partition ON quality_reports (connection, stream, partition);
`

// QualityReport is the data-quality outcome of one stream of one job.
type QualityReport struct {
	JobID      int64
	Connection string
	Stream     string
	Partition  string
	Status     string // committed | quarantined
	Score      float64
	Errors     int    // failing error-severity rules
	Warnings   int    // failing warning rules
	Report     []byte // JSON, package quality's StreamReport
	Stats      []byte // JSON, package stats' Stream
	CreatedAt  time.Time
}

// SaveQualityReport inserts or replaces the report of r.JobID's r.Stream.
func (s *Store) SaveQualityReport(ctx context.Context, r QualityReport) error {
	at := r.CreatedAt
	if at.IsZero() {
		at = s.clock()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO quality_reports
		(job_id, connection, stream, partition, status, score, errors, warnings, report, stats, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (job_id, stream) DO UPDATE SET partition = excluded.partition, status = excluded.status,
			score = excluded.score, errors = excluded.errors, warnings = excluded.warnings,
			report = excluded.report, stats = excluded.stats, created_at = excluded.created_at`,
		r.JobID, r.Connection, r.Stream, r.Partition, r.Status, r.Score, r.Errors, r.Warnings,
		string(orEmpty(r.Report)), string(orEmpty(r.Stats)), formatTime(at))
	if err != nil {
		return fmt.Errorf("save quality report of %s in job %d: %w", r.Stream, r.JobID, err)
	}
	return nil
}

// QualityReport returns the report of a job's stream, or ErrNotFound.
func (s *Store) QualityReport(ctx context.Context, jobID int64, stream string) (QualityReport, error) {
	var (
		r       QualityReport
		at      string
		rep, st string
	)
	err := s.db.QueryRowContext(ctx, `SELECT job_id, connection, stream, partition, status, score, errors, warnings,
		report, stats, created_at FROM quality_reports WHERE job_id = ? AND stream = ?`, jobID, stream).
		Scan(&r.JobID, &r.Connection, &r.Stream, &r.Partition, &r.Status, &r.Score, &r.Errors, &r.Warnings, &rep, &st, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return QualityReport{}, fmt.Errorf("quality report of %s in job %d: %w", stream, jobID, ErrNotFound)
	}
	if err != nil {
		return QualityReport{}, fmt.Errorf("quality report of %s in job %d: %w", stream, jobID, err)
	}
	r.Report, r.Stats = []byte(rep), []byte(st)
	r.CreatedAt, err = parseTime(at)
	return r, err
}

func orEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
