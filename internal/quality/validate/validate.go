// Package validate re-checks committed partitions against their manifests,
// as `acode validate` does long after the sync: every file present with the
// recorded size and SHA-256, every file a readable Parquet file with the
// recorded row count and schema, and the data-quality rules re-evaluated on
// the statistics the manifest kept. With Options.Deep it re-reads the rows
// (package parquet's Decoder), recomputes the statistics with the sync's own spec and
// reports every difference from the stored ones (deep.go). It also compares
// a primary partition with its backup (see compare.go).
package validate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/stats"
	"github.com/acode-dev/acode/internal/storage"
)

// Check is the validation of one stream's partition.
type Check struct {
	Connection  string    `json:"connection"`
	Stream      string    `json:"stream"`
	Partition   string    `json:"partition"`
	ManifestKey string    `json:"manifest"`
	Status      string    `json:"status"` // the manifest's status, or "missing"
	JobID       int64     `json:"job_id,omitempty"`
	Source      string    `json:"source,omitempty"` // primary | backup
	CommittedAt time.Time `json:"committed_at,omitzero"`
	Files       int       `json:"files"`
	Rows        int64     `json:"rows"`
	Problems    []string  `json:"problems,omitempty"` // integrity problems, file by file
	// Deep is set when the files were re-read (--deep); StatsDiffs then
	// lists where the manifest's statistics differ from the files'.
	Deep       bool                 `json:"deep,omitempty"`
	StatsDiffs []string             `json:"stats_diffs,omitempty"`
	Report     quality.StreamReport `json:"report"`
}

// Valid reports whether the partition is present and intact (its rules
// may still warn).
func (c Check) Valid() bool {
	return c.Status != "missing" && len(c.Problems) == 0 && len(c.StatsDiffs) == 0
}

// Options tune a validation.
type Options struct {
	// Deep re-reads every row of the files of the manifest's own job,
	// recomputes the statistics, reports each difference from the stored
	// ones (a manifest whose sizes and checksums match files it does not
	// describe) and evaluates the rules on the recomputed statistics. It
	// costs one full read of the partition.
	Deep bool
}

// Partition validates the partition whose manifest is l's, in store.
func Partition(ctx context.Context, store storage.Store, settings config.QualitySettings, connection, stream string, l layout.Stream, opts Options) (Check, error) {
	c := Check{Connection: connection, Stream: stream, Partition: l.Partition, ManifestKey: l.ManifestKey()}
	m, err := snapshot.ReadManifest(ctx, store, l.ManifestKey())
	if errors.Is(err, storage.ErrNotExist) {
		c.Status = "missing"
		c.Report = quality.StreamReport{Stream: stream, Partition: l.Partition, Results: []quality.Result{{
			Rule: "manifest", Severity: failure.Error, Measured: "missing", Threshold: "present",
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
func Manifest(ctx context.Context, store storage.Store, settings config.QualitySettings, m *snapshot.Manifest, manifestKey string, opts Options) (Check, error) {
	c := Check{Connection: m.Connection, Stream: m.Stream, Partition: m.Partition, ManifestKey: manifestKey,
		Status: m.Status, JobID: m.JobID, Source: m.Source.Role, CommittedAt: m.CommittedAt, Files: len(m.Files), Rows: m.Rows,
		Deep: opts.Deep}
	var deep *recomputer
	if opts.Deep {
		var err error
		if deep, err = newRecomputer(settings, m); err != nil {
			return c, err
		}
	}
	var sum, jobRows int64
	for _, f := range m.Files {
		problems, lf, pf, err := fileProblems(ctx, store, f, m.Schema)
		if err == nil && deep != nil && pf != nil && f.JobID == m.JobID {
			if derr := deep.observe(pf); derr != nil {
				problems = append(problems, fmt.Sprintf("rows: %s cannot be decoded: %v", f.Key, derr))
			}
		}
		lf.Close()
		if err != nil {
			return c, fmt.Errorf("validate %s: %w", f.Key, err)
		}
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
	st := m.Stats
	if deep != nil {
		st = deep.result()
		if m.Stats != nil {
			st.Nulled = m.Stats.Nulled // the files hold them as NULL: only the sync counted them
		}
		c.StatsDiffs = deepDiffs(m, st, jobRows)
	}
	rep := quality.Evaluate(quality.Input{Stream: m.Stream, Settings: settings, Stats: st,
		Written: jobRows, Day: m.StartedAt.UTC().Format(time.DateOnly)})
	rep.Results = append([]quality.Result{integrityResult(c, m)}, rep.Results...)
	rep = quality.Rescore(rep)
	rep.Partition, rep.Status = m.Partition, m.Status
	c.Report = rep
	return c, nil
}

// integrityResult is the rule saying the files are what the manifest
// says: present, same size and checksum, readable, same rows and schema;
// with --deep also the same statistics. One rule either way, so a clean
// partition scores the same with and without --deep.
func integrityResult(c Check, m *snapshot.Manifest) quality.Result {
	r := quality.Result{Rule: "integrity", Severity: failure.Error,
		Passed:   len(c.Problems) == 0 && len(c.StatsDiffs) == 0,
		Measured: fmt.Sprintf("%d problems in %d files", len(c.Problems), len(m.Files)), Threshold: "0"}
	if c.Deep {
		r.Measured += fmt.Sprintf(", %d statistics differences (deep)", len(c.StatsDiffs))
	}
	if !r.Passed {
		r.Detail = strings.Join(firstN(append(slices.Clip(c.Problems), c.StatsDiffs...), 3), "; ")
	}
	return r
}

// deepDiffs compares the manifest's statistics with those recomputed from
// its files. A manifest without statistics (quality checks were off when
// it was written) has nothing to compare: the rules then run on the
// recomputed statistics alone.
func deepDiffs(m *snapshot.Manifest, got *stats.Stream, jobRows int64) []string {
	if m.Stats == nil || m.Stats.Rows < jobRows {
		// No statistics, or partial ones: a retried attempt that resumed
		// the ranges an earlier one uploaded observed only its own rows.
		// Nothing to hold the files to; the rules run on the recomputed
		// statistics alone.
		return nil
	}
	return statsDiff(m.Stream, m.Stats, got)
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
		c.Report.Results = append(c.Report.Results, quality.Result{Rule: "latest_job", Severity: failure.Error,
			Measured: fmt.Sprintf("job %d quarantined", rec.JobID), Threshold: "committed",
			Detail: "its files are under " + strings.TrimSuffix(rec.ManifestKey, "/"+layout.ManifestName) + "; the partition holds the previous snapshot"})
		c.Report = quality.Rescore(c.Report)
		if c.Status != "missing" {
			c.Status = "quarantined"
		}
	}
	return nil
}
