// Package reconcile repairs a primary connection's days from its backup
// after a recovery: for each day and stream it finds a primary partition
// that is missing, damaged (a file gone or not matching its manifest) or
// whose latest job was quarantined, checks the backup's partition of that
// day is intact, and promotes it through the normal commit protocol
// (package promote: server-side copy, manifest status "promoted").
//
// An incremental stream whose primary partition is intact but partial (the
// backup's partition of the day holds keys the primary lacks, or newer
// versions of them) is merged instead: both sides' rows, deduplicated by
// primary key with the greatest cursor winning, become a new snapshot of
// the primary partition, committed with status "promoted" and the
// manifest's Merge saying what came from where (merge.go).
//
// A day already valid and complete is left alone, so running it twice
// changes nothing.
package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/promote"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/state"
)

// Action is what reconcile found and did for one stream on one day.
type Action struct {
	Day     string  `json:"day"`
	Stream  string  `json:"stream"`
	Primary Day     `json:"primary"` // valid, missing, damaged, quarantined or partial
	Backup  Day     `json:"backup"`  // valid, missing, damaged or not checked
	Did     Outcome `json:"did"`
	JobID   int64   `json:"backup_job_id,omitempty"`
	Rows    int64   `json:"rows,omitempty"`
	Detail  string  `json:"detail,omitempty"`
}

// Reconciler repairs primary days from a backup connection.
type Reconciler struct {
	Project *config.Project
	State   *state.Store
	Log     *slog.Logger
	DryRun  bool
	// KeysPerPass bounds the keys an incremental merge holds in memory at
	// once (DefaultKeysPerPass when 0); see merge.go.
	KeysPerPass int
}

// Days reconciles primary from backup for every day in days.
func (r *Reconciler) Days(ctx context.Context, primary, backup *config.Connection, days []time.Time) ([]Action, error) {
	pStore, err := connect.Store(ctx, primary.Destination)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	bStore, err := connect.Store(ctx, backup.Destination)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	settings := r.Project.Settings.Quality
	promoter := &promote.Promoter{State: r.State, Log: r.Log}
	var out []Action
	for _, day := range days {
		for _, s := range primary.SelectedStreams() {
			a := Action{Day: day.Format(time.DateOnly), Stream: s.Name, Backup: NotChecked}
			pc, err := validate.Partition(ctx, pStore, settings, primary.ResourceName, s.Name, validate.StreamLayout(primary, s, day), validate.Options{})
			if err != nil {
				return out, err
			}
			if err := validate.Commit(ctx, r.State, &pc); err != nil {
				return out, err
			}
			a.Primary = primaryState(pc)
			bs, ok := streamOf(backup, s.Name)
			// An incremental day whose partition is intact (valid, or its
			// latest increment quarantined and the previous snapshot live)
			// is merged with the backup's, keeping the primary's own rows.
			if ok && s.SyncMode == config.SyncIncremental && (a.Primary == Valid || a.Primary == Quarantined) {
				if err := r.mergeDay(ctx, pStore, bStore, primary, backup, s, bs, day, pc, &a); err != nil {
					return out, err
				}
				if a.Primary != Quarantined || a.Did == Merged || a.Did == WouldMerge {
					out = append(out, a)
					continue
				}
				a.Backup, a.Detail = NotChecked, "" // nothing to merge: promote the backup's snapshot instead
			}
			if a.Primary == Valid {
				a.Did = Nothing
				out = append(out, a)
				continue
			}
			if !ok {
				a.Did, a.Detail = Skipped, "the backup connection does not select this stream"
				out = append(out, a)
				continue
			}
			bc, err := validate.Partition(ctx, bStore, settings, backup.ResourceName, s.Name, validate.StreamLayout(backup, bs, day), validate.Options{})
			if err != nil {
				return out, err
			}
			a.Backup, a.JobID, a.Rows = backupState(bc), bc.JobID, bc.Rows
			switch {
			case a.Backup != Valid:
				a.Did, a.Detail = Skipped, "the backup has no intact snapshot of the day"
				if p := firstProblem(bc); p != "" {
					a.Detail += ": " + p
				}
			case r.DryRun:
				a.Did = WouldPromote
			default:
				res, err := promoter.Partition(ctx, backup, primary, bc.ManifestKey)
				if err != nil {
					return out, fmt.Errorf("reconcile %s %s: %w", s.Name, a.Day, err)
				}
				if res.Skipped != "" {
					a.Did, a.Detail = Skipped, res.Skipped
				} else {
					a.Did, a.Rows, a.Detail = Promoted, res.Rows, fmt.Sprintf("%d files, %s copy into %s", len(res.Files), res.Copy, res.To)
				}
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func primaryState(c validate.Check) Day {
	switch {
	case c.Status == "missing":
		return Missing
	case len(c.Problems) > 0:
		return Damaged
	case c.Status == "quarantined":
		return Quarantined
	}
	return Valid
}

func backupState(c validate.Check) Day {
	switch {
	case c.Status == "missing":
		return Missing
	case len(c.Problems) > 0:
		return Damaged
	}
	return Valid
}

func firstProblem(c validate.Check) string {
	if len(c.Problems) > 0 {
		return c.Problems[0]
	}
	return ""
}

func streamOf(c *config.Connection, name string) (config.Stream, bool) {
	for _, s := range c.SelectedStreams() {
		if s.Name == name {
			return s, true
		}
	}
	return config.Stream{}, false
}
