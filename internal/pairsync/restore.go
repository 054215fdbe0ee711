package pairsync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/promote"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
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
// rows): the corrupt streams' day is restored from the backup (see
// restoreStreams). The quarantined rows stay under _quarantine/.
func (r *run) restore(ctx context.Context, cause error) error {
	failed := r.rep.Last()
	streams := corruptStreams(failed, cause)
	if len(streams) == 0 {
		return cause
	}
	return r.restoreStreams(ctx, streams, failed.StartedAt, cause)
}

// RestoreDay acts on a validate failure of the primary's day (a file
// missing or not matching its manifest, a failing error rule) in streams:
// the failure is fed to the pair's machine as data_corruption and, when
// failover.strategies.data_corruption is full_backup_restore, the live
// snapshots of those streams are copied under _quarantine/ and the day is
// restored from the backup. Report.Restored says what was.
func (o *Orchestrator) RestoreDay(ctx context.Context, connection string, day time.Time, streams []string, cause error) (*Report, error) {
	pair, err := o.Pair(connection)
	if err != nil {
		return nil, err
	}
	r := &run{o: o, pair: pair, m: o.Machine(pair), rep: &Report{Pair: pair.Primary}}
	cause = fmt.Errorf("validate %s %s: %w: %w", pair.Primary, day.Format(time.DateOnly), failure.ErrDataCorruption, cause)
	d, err := r.m.ObserveJob(ctx, pair.Primary, cause)
	if err != nil {
		return r.rep, err
	}
	r.note(ctx, d)
	if !d.Restore {
		return r.rep, cause // the strategy is not full_backup_restore, or the machine is halted
	}
	if err := r.quarantineLive(ctx, streams, day); err != nil {
		return r.rep, r.restoreFailed(ctx, streams, cause, err.Error())
	}
	return r.rep, r.restoreStreams(ctx, streams, day, cause)
}

// restoreStreams restores the primary's day of streams from the backup
// when the backup is usable: today's day from a sync of the backup run
// now, an earlier day from the backup's committed snapshot of that day
// when it is intact. The backup's snapshot is promoted into the primary's
// partition over what is there, the partition is validated (files
// re-read), and the outcome alerted. When any step cannot be done the
// pair halts with a critical alert.
func (r *run) restoreStreams(ctx context.Context, streams []string, day time.Time, cause error) error {
	log := r.o.log().With("pair", r.pair.Primary, "streams", streams, "day", day.Format(time.DateOnly))
	log.Warn("data corruption on the primary: restoring the day from the backup", "err", cause)
	ok, why, err := r.m.BackupUsable(ctx)
	if err != nil {
		return errors.Join(cause, err)
	}
	if !ok {
		return r.restoreFailed(ctx, streams, cause, fmt.Sprintf("the backup %s is not usable: %s", r.pair.Backup, why))
	}
	manifests, err := r.backupSnapshots(ctx, streams, day)
	if err != nil {
		return r.restoreFailed(ctx, streams, cause, err.Error())
	}
	restored, err := r.promoteAndValidate(ctx, manifests, day)
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

// backupSnapshots returns, per stream, the manifest key of the backup's
// snapshot of day to restore from: a sync of the backup run now for
// today, else the backup's committed partition of that day, checked.
func (r *run) backupSnapshots(ctx context.Context, streams []string, day time.Time) (map[string]string, error) {
	out := map[string]string{}
	if day.UTC().Format(time.DateOnly) == time.Now().UTC().Format(time.DateOnly) {
		before := r.rep.Last()
		if _, err := r.job(ctx, r.pair.Backup, "backup", true); err != nil && r.rep.Last() == before {
			return nil, fmt.Errorf("the backup's sync did not run: %v", err)
		}
		for _, name := range streams {
			bs, ok := streamResult(r.rep.Last(), name)
			if !ok || bs.Status != syncer.StreamCommitted || bs.Manifest == "" {
				return nil, fmt.Errorf("the backup's sync of %s did not commit (%s %s)", name, bs.Status, bs.Error)
			}
			out[name] = bs.Manifest
		}
		return out, nil
	}
	backup := r.o.Project.Connections[r.pair.Backup]
	store, err := connect.Store(ctx, backup.Destination)
	if err != nil {
		return nil, fmt.Errorf("open the backup's destination: %w", err)
	}
	for _, name := range streams {
		s, ok := selected(backup, name)
		if !ok {
			return nil, fmt.Errorf("the backup connection does not select %s", name)
		}
		c, err := validate.Partition(ctx, store, r.o.Project.Settings.Quality, backup.ResourceName, name,
			validate.StreamLayout(backup, s, day), validate.Options{})
		if err != nil {
			return nil, err
		}
		if !c.Valid() || (c.Status != "committed" && c.Status != promote.StatusPromoted) {
			return nil, fmt.Errorf("the backup has no intact snapshot of %s on %s (%s %s)", name, day.Format(time.DateOnly), c.Status, strings.Join(c.Problems, "; "))
		}
		out[name] = c.ManifestKey
	}
	return out, nil
}

// quarantineLive copies the primary's live snapshots of streams on day
// under _quarantine/ before the restore replaces them.
func (r *run) quarantineLive(ctx context.Context, streams []string, day time.Time) error {
	primary := r.o.Project.Connections[r.pair.Primary]
	store, err := connect.Store(ctx, primary.Destination)
	if err != nil {
		return fmt.Errorf("open the primary's destination: %w", err)
	}
	for _, name := range streams {
		s, _ := selected(primary, name)
		l := validate.StreamLayout(primary, s, day)
		m, err := snapshot.ReadManifest(ctx, store, l.ManifestKey())
		if errors.Is(err, storage.ErrNotExist) {
			continue // nothing live to keep
		}
		if err != nil {
			return fmt.Errorf("read the corrupt snapshot of %s: %w", name, err)
		}
		prefix := snapshot.QuarantinePrefix(primary.Destination.BucketPath, name, day.Format(time.DateOnly), m.JobID)
		if _, err := snapshot.QuarantineCommitted(ctx, store, prefix, *m); err != nil {
			return err
		}
		r.o.log().Warn("corrupt snapshot copied to quarantine", "stream", name, "to", prefix)
	}
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

// promoteAndValidate promotes the backup's snapshot of each stream into
// the primary's layout over what is there, and re-checks the promoted
// partition file by file.
func (r *run) promoteAndValidate(ctx context.Context, manifests map[string]string, day time.Time) ([]Restored, error) {
	backup, primary := r.o.Project.Connections[r.pair.Backup], r.o.Project.Connections[r.pair.Primary]
	store, err := connect.Store(ctx, primary.Destination)
	if err != nil {
		return nil, fmt.Errorf("open the primary's destination: %w", err)
	}
	p := &promote.Promoter{State: r.o.State, Log: r.o.log(), Replace: true}
	names := make([]string, 0, len(manifests))
	for name := range manifests {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Restored
	for _, name := range names {
		pr, err := p.Partition(ctx, backup, primary, manifests[name])
		if err != nil {
			return out, err
		}
		if pr.Skipped != "" {
			return out, fmt.Errorf("promote %s: %s", name, pr.Skipped)
		}
		r.rep.Promotions = append(r.rep.Promotions, pr)
		if err := r.validateRestored(ctx, store, primary, name, day); err != nil {
			return out, err
		}
		out = append(out, Restored{Stream: name, Partition: pr.To, BackupJob: pr.JobID, Rows: pr.Rows})
	}
	return out, nil
}

// validateRestored re-reads the restored partition (acode validate --deep).
func (r *run) validateRestored(ctx context.Context, store storage.Store, primary *config.Connection, name string, day time.Time) error {
	s, _ := selected(primary, name)
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

func selected(c *config.Connection, name string) (config.Stream, bool) {
	for _, s := range c.SelectedStreams() {
		if s.Name == name {
			return s, true
		}
	}
	return config.Stream{}, false
}
