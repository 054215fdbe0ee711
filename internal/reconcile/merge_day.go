package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// mergeDay looks at an incremental stream whose primary partition is
// intact (valid, or quarantined: its latest increment set aside): when the
// backup's intact partition of the day holds rows the primary lacks, or
// newer versions of its rows, both are merged (see merge.go) and the
// action says "merged", a valid primary being reported "partial".
func (r *Reconciler) mergeDay(ctx context.Context, pStore, bStore storage.Store, primary, backup *config.Connection,
	s, bs config.Stream, day time.Time, pc validate.Check, a *Action) error {
	settings := r.Project.Settings.Quality
	bc, err := validate.Partition(ctx, bStore, settings, backup.ResourceName, bs.Name, validate.StreamLayout(backup, bs, day), validate.Options{})
	if err != nil {
		return err
	}
	a.Backup = backupState(bc)
	a.Did = Nothing
	if a.Backup != Valid {
		return nil
	}
	pm, err := snapshot.ReadManifest(ctx, pStore, pc.ManifestKey)
	if err != nil {
		return err
	}
	bm, err := snapshot.ReadManifest(ctx, bStore, bc.ManifestKey)
	if err != nil {
		return err
	}
	in, err := planMerge(s, pm, bm)
	if errors.Is(err, ErrNotMergeable) {
		a.Did, a.Detail = Skipped, "cannot merge: "+err.Error()
		return nil
	}
	if err != nil {
		return err
	}
	in.backupKey = bc.ManifestKey
	if r.KeysPerPass > 0 {
		in.keysPerPass = r.KeysPerPass
	}
	defer in.close()
	if err := in.fetch(ctx, pStore, bStore); err != nil {
		return fmt.Errorf("merge %s %s: %w", s.Name, a.Day, err)
	}
	counts, keys, err := in.contribution()
	if err != nil {
		return fmt.Errorf("merge %s %s: %w", s.Name, a.Day, err)
	}
	if counts.added+counts.replaced == 0 {
		a.Detail = "the backup holds no row the primary lacks"
		return nil
	}
	if a.Primary == Valid {
		a.Primary = Partial
	}
	a.JobID, a.Rows = bm.JobID, counts.rows
	a.Detail = fmt.Sprintf("%d keys only on the backup, %d newer on the backup, %d older versions dropped",
		counts.added, counts.replaced, counts.dropped)
	if r.DryRun {
		a.Did = WouldMerge
		return nil
	}
	m, err := r.commitMerge(ctx, pStore, primary, validate.StreamLayout(primary, s, day), in, keys, counts)
	if m == nil {
		return fmt.Errorf("merge %s %s: %w", s.Name, a.Day, err)
	}
	a.Did, a.Rows = Merged, m.Rows
	a.Detail += fmt.Sprintf("; %d files, key %v, cursor %s", len(m.Files), in.keyNames, m.Merge.CursorField)
	r.log().Info("incremental day merged from the backup", "stream", s.Name, "day", a.Day, "rows", m.Rows,
		"added", counts.added, "replaced", counts.replaced, "passes", m.Merge.Passes)
	return err
}

func (r *Reconciler) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}
