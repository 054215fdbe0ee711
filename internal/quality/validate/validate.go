// Package validate re-checks committed partitions against their manifests,
// as `acode validate` does long after the sync: every file present with the
// recorded size and SHA-256, every file a readable Parquet file with the
// recorded row count and schema, and the data-quality rules re-evaluated on
// the statistics the manifest kept. It also compares a primary partition
// with its backup (see compare.go).
package validate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// Check is the validation of one stream's partition.
type Check struct {
	Connection  string               `json:"connection"`
	Stream      string               `json:"stream"`
	Partition   string               `json:"partition"`
	ManifestKey string               `json:"manifest"`
	Status      string               `json:"status"` // the manifest's status, or "missing"
	JobID       int64                `json:"job_id,omitempty"`
	Source      string               `json:"source,omitempty"` // primary | backup
	CommittedAt time.Time            `json:"committed_at,omitzero"`
	Files       int                  `json:"files"`
	Rows        int64                `json:"rows"`
	Problems    []string             `json:"problems,omitempty"` // integrity problems, file by file
	Report      quality.StreamReport `json:"report"`
}

// Valid reports whether the partition is present and intact (its rules
// may still warn).
func (c Check) Valid() bool {
	return c.Status != "missing" && len(c.Problems) == 0
}

// Options tune a validation.
type Options struct{}

// Partition validates the partition whose manifest is l's, in store.
func Partition(ctx context.Context, store storage.Store, settings config.QualitySettings, connection, stream string, l layout.Stream, opts Options) (Check, error) {
	c := Check{Connection: connection, Stream: stream, Partition: l.Partition, ManifestKey: l.ManifestKey()}
	m, err := snapshot.ReadManifest(ctx, store, l.ManifestKey())
	if errors.Is(err, storage.ErrNotExist) {
		c.Status = "missing"
		c.Report = quality.StreamReport{Stream: stream, Partition: l.Partition, Results: []quality.Result{{
			Rule: "manifest", Severity: config.SeverityError, Measured: "missing", Threshold: "present",
			Detail: "no committed snapshot in " + l.Partition,
		}}}
		return c, nil
	}
	if err != nil {
		return c, err
	}
	return Manifest(ctx, store, settings, m, l.ManifestKey(), opts)
}

// Manifest validates the snapshot m (read from manifestKey) in store.
func Manifest(ctx context.Context, store storage.Store, settings config.QualitySettings, m *snapshot.Manifest, manifestKey string, _ Options) (Check, error) {
	c := Check{Connection: m.Connection, Stream: m.Stream, Partition: m.Partition, ManifestKey: manifestKey,
		Status: m.Status, JobID: m.JobID, Source: m.Source.Role, CommittedAt: m.CommittedAt, Files: len(m.Files), Rows: m.Rows}
	var sum, jobRows int64
	for _, f := range m.Files {
		problems, lf, _, err := fileProblems(ctx, store, f, m.Schema)
		if err != nil {
			return c, fmt.Errorf("validate %s: %w", f.Key, err)
		}
		lf.Close()
		c.Problems = append(c.Problems, problems...)
		sum += f.Rows
		if f.JobID == m.JobID {
			jobRows += f.Rows
		}
	}
	if sum != m.Rows {
		c.Problems = append(c.Problems, fmt.Sprintf("rows: files list %d rows, manifest total says %d", sum, m.Rows))
	}
	// The statistics describe the rows of the manifest's own job: all of a
	// full refresh, the last increment of an appended partition.
	rep := quality.Evaluate(quality.Input{Stream: m.Stream, Settings: settings, Stats: m.Stats,
		Written: jobRows, Day: m.StartedAt.UTC().Format(time.DateOnly)})
	integrity := quality.Result{Rule: "integrity", Severity: config.SeverityError, Passed: len(c.Problems) == 0,
		Measured: fmt.Sprintf("%d problems in %d files", len(c.Problems), len(m.Files)), Threshold: "0"}
	if len(c.Problems) > 0 {
		integrity.Detail = strings.Join(firstN(c.Problems, 3), "; ")
	}
	rep.Results = append([]quality.Result{integrity}, rep.Results...)
	rep = quality.Rescore(rep)
	rep.Partition, rep.Status = m.Partition, m.Status
	c.Report = rep
	return c, nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// Commit looks at the state store's record of the partition: a quarantined
// latest job is a failing error rule even though the partition still holds
// the previous snapshot.
func Commit(ctx context.Context, st *state.Store, c *Check) error {
	if st == nil {
		return nil
	}
	rec, err := st.Commit(ctx, c.Connection, c.Stream, c.Partition)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.Status == state.CommitQuarantined {
		c.Report.Results = append(c.Report.Results, quality.Result{Rule: "latest_job", Severity: config.SeverityError,
			Measured: fmt.Sprintf("job %d quarantined", rec.JobID), Threshold: "committed",
			Detail: "its files are under " + strings.TrimSuffix(rec.ManifestKey, "/"+layout.ManifestName) + "; the partition holds the previous snapshot"})
		c.Report = quality.Rescore(c.Report)
		if c.Status != "missing" {
			c.Status = "quarantined"
		}
	}
	return nil
}
