package pairsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/promote"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/syncer"
)

// RestoreError says a full_backup_restore could not be done; the pair is
// halted and a critical alert raised.
type RestoreError struct {
	Streams []string // the corrupt streams of the primary's day
	Why     string
	Cause   error // the primary job's data corruption
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("data corruption in %s, not restored from the backup: %s: %v", strings.Join(e.Streams, ", "), e.Why, e.Cause)
}

func (e *RestoreError) Unwrap() error { return e.Cause }

// Restored is one stream's day restored from the backup.
type Restored struct {
	Stream    string `json:"stream"`
	Partition string `json:"partition"`
	BackupJob int64  `json:"backup_job_id"`
	Rows      int64  `json:"rows"`
}

// restore acts on a full_backup_restore decision, after the primary's job
// failed with data corruption (a stream's quality gate quarantined its
// rows, a checksum mismatch): the corrupt streams' day is synced from the
// backup when the backup is usable, the backup's snapshot is promoted into
// the primary's partition, the partition is validated (files re-read), and
// the outcome is alerted. The quarantined rows stay under _quarantine/.
// When any step cannot be done the pair halts with a critical alert.
func (r *run) restore(ctx context.Context, cause error) error {
	failed := r.rep.Last()
	streams := corruptStreams(failed, cause)
	if len(streams) == 0 {
		return cause
	}
	log := r.o.log().With("pair", r.pair.Primary, "streams", streams)
	log.Warn("data corruption on the primary: restoring the day from the backup", "err", cause)
	ok, why, err := r.m.BackupUsable(ctx)
	if err != nil {
		return errors.Join(cause, err)
	}
	if !ok {
		return r.restoreFailed(ctx, streams, cause, fmt.Sprintf("the backup %s is not usable: %s", r.pair.Backup, why))
	}
	if _, err := r.job(ctx, r.pair.Backup, "backup", true); err != nil && r.rep.Last() == failed {
		return r.restoreFailed(ctx, streams, cause, fmt.Sprintf("the backup's sync did not run: %v", err))
	}
	restored, err := r.promoteAndValidate(ctx, r.rep.Last(), streams)
	if err != nil {
		return r.restoreFailed(ctx, streams, cause, err.Error())
	}
	r.rep.Restored = append(r.rep.Restored, restored...)
	var parts []string
	for _, x := range restored {
		parts = append(parts, fmt.Sprintf("%s (%d rows from backup job %d)", x.Partition, x.Rows, x.BackupJob))
	}
	d, err := r.m.Restored(ctx, fmt.Sprintf("data corruption on the primary %s (%v); restored from %s and validated: %s",
		r.pair.Primary, cause, r.pair.Backup, strings.Join(parts, ", ")))
	if err != nil {
		return err
	}
	r.note(ctx, d)
	log.Info("day restored from the backup", "partitions", len(restored))
	return nil
}

func (r *run) restoreFailed(ctx context.Context, streams []string, cause error, why string) error {
	d, err := r.m.RestoreFailed(context.WithoutCancel(ctx), why)
	if err != nil {
		return errors.Join(cause, err)
	}
	r.note(ctx, d)
	return &RestoreError{Streams: streams, Why: why, Cause: cause}
}

// corruptStreams names the streams of the primary's job whose failure is
// data corruption; a failure not about streams concerns them all.
func corruptStreams(res *syncer.Result, cause error) []string {
	var out []string
	var se *syncer.StreamsError
	if errors.As(cause, &se) {
		for i, err := range se.Errs {
			if failure.Classify(err) == failure.ClassDataCorruption {
				out = append(out, se.Failed[i])
			}
		}
		return out
	}
	for _, s := range res.Streams {
		out = append(out, s.Name)
	}
	return out
}

// promoteAndValidate promotes the backup job's snapshot of each stream into
// the primary's layout and re-checks the promoted partition file by file.
func (r *run) promoteAndValidate(ctx context.Context, backupJob *syncer.Result, streams []string) ([]Restored, error) {
	backup, primary := r.o.Project.Connections[r.pair.Backup], r.o.Project.Connections[r.pair.Primary]
	store, err := connect.Store(ctx, primary.Destination)
	if err != nil {
		return nil, fmt.Errorf("open the primary's destination: %w", err)
	}
	p := &promote.Promoter{State: r.o.State, Log: r.o.log()}
	var out []Restored
	for _, name := range streams {
		bs, ok := streamResult(backupJob, name)
		if !ok || bs.Status != syncer.StreamCommitted || bs.Manifest == "" {
			return out, fmt.Errorf("the backup's sync of %s did not commit (%s %s)", name, bs.Status, bs.Error)
		}
		pr, err := p.Partition(ctx, backup, primary, bs.Manifest)
		if err != nil {
			return out, err
		}
		if pr.Skipped != "" {
			return out, fmt.Errorf("promote %s: %s", name, pr.Skipped)
		}
		r.rep.Promotions = append(r.rep.Promotions, pr)
		if err := r.validateRestored(ctx, store, primary, name, backupJob.StartedAt); err != nil {
			return out, err
		}
		out = append(out, Restored{Stream: name, Partition: pr.To, BackupJob: backupJob.JobID, Rows: pr.Rows})
	}
	return out, nil
}

// validateRestored re-reads the restored partition (acode validate --deep).
func (r *run) validateRestored(ctx context.Context, store storage.Store, primary *config.Connection, name string, day time.Time) error {
	var s config.Stream
	for _, x := range primary.SelectedStreams() {
		if x.Name == name {
			s = x
		}
	}
	c, err := validate.Partition(ctx, store, r.o.Project.Settings.Quality, primary.ResourceName, name,
		validate.StreamLayout(primary, s, day), validate.Options{Deep: true})
	if err != nil {
		return fmt.Errorf("validate the restored %s: %w", name, err)
	}
	problems := append(append([]string{}, c.Problems...), c.StatsDiffs...)
	for _, e := range c.Report.Errors() {
		problems = append(problems, fmt.Sprintf("rule %s: %s (threshold %s)", e.Rule, e.Measured, e.Threshold))
	}
	if !c.Valid() || len(problems) > 0 {
		return fmt.Errorf("the restored %s does not validate: %s", c.Partition, strings.Join(problems, "; "))
	}
	return nil
}

func streamResult(res *syncer.Result, name string) (syncer.StreamResult, bool) {
	for _, s := range res.Streams {
		if s.Name == name {
			return s, true
		}
	}
	return syncer.StreamResult{}, false
}
