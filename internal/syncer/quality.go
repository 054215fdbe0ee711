package syncer

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/stats"
)

// The hooks of the data-quality checks (package quality) in a stream's run:
// statistics are gathered by each read worker from the rows it encodes, each
// range is counted in its read's snapshot, and the rules decide before the
// commit whether the parts become the partition or go to quarantine.

// streamQuality is one stream's checks; every method is a no-op when the
// project's quality checks are off.
type streamQuality struct {
	stream *quality.Stream
	source *quality.Source
}

// beginQuality starts the statistics of the stream's reads.
func (r *streamRun) beginQuality(table schema.Table) (*streamQuality, error) {
	qs, err := r.quality.Begin(r.stream.Name, table, catalogKey(r.stream.PrimaryKey))
	if err != nil || qs == nil {
		return &streamQuality{}, err
	}
	return &streamQuality{stream: qs, source: quality.NewSource(r.ep.db, table)}, nil
}

// sourceRows is the source's count of the rows of every part, each range
// counted in its read's snapshot; -1 when a part was not counted (read
// with quality checks off, or recorded by an older acode).
func sourceRows(parts []state.Part) int64 {
	var n int64
	for _, p := range parts {
		if p.SourceRows < 0 {
			return -1
		}
		n += p.SourceRows
	}
	return n
}

// catalogKey flattens the catalog's primary key (a list of field paths).
func catalogKey(pk [][]string) []string {
	var out []string
	for _, path := range pk {
		if len(path) > 0 {
			out = append(out, path[len(path)-1])
		}
	}
	return out
}

// checkQuality runs the rules on the stream's statistics, the rows staged
// for the commit and the source's count of them (-1: not counted).
func (r *streamRun) checkQuality(ctx context.Context, q *streamQuality, staged []snapshot.StagedPart, counted int64) (*stats.Stream, *snapshot.Quality, quality.StreamReport) {
	if q.stream == nil {
		return nil, nil, quality.StreamReport{}
	}
	var written int64
	for _, p := range staged {
		written += p.Rows
	}
	st, rep := q.stream.Finish(ctx, q.source, written, counted)
	sum := &snapshot.Quality{Score: rep.Score, Passed: rep.Score >= r.syncer.Project.Settings.Quality.ScoreThreshold}
	for _, res := range rep.Results {
		switch {
		case !res.Failing():
		case res.Severity == "error":
			sum.Errors = append(sum.Errors, res.Rule)
			sum.Passed = false
		default:
			sum.Warnings = append(sum.Warnings, res.Rule)
		}
	}
	for _, w := range sum.Warnings {
		r.log.Warn("data quality warning", "rule", w)
	}
	return st, sum, rep
}

// quarantine commits the staged parts under the quarantine prefix instead
// of the partition, records the commit as quarantined and returns the
// typed failure.
func (r *streamRun) quarantine(ctx context.Context, l layout.Stream, m snapshot.Manifest, staged []snapshot.StagedPart, rep quality.StreamReport) (streamOutput, error) {
	prefix := snapshot.QuarantinePrefix(r.conn.Destination.BucketPath, r.stream.Name,
		r.job.CreatedAt.UTC().Format("2006-01-02"), r.job.ID)
	qm, err := snapshot.Quarantine(ctx, r.ep.store, prefix, l, m, staged)
	if qm == nil {
		return streamOutput{}, failure.Destination(r.stream.Name, err)
	}
	if err != nil {
		r.log.Warn("quarantined with leftovers", "err", err)
	}
	if err := r.syncer.State.RecordCommit(ctx, state.Commit{
		Connection: r.conn.ResourceName, Stream: r.stream.Name, Partition: l.Partition,
		JobID: r.job.ID, ManifestKey: snapshot.QuarantineManifestKey(prefix), Rows: qm.Rows, Bytes: qm.Bytes,
		Files: len(qm.Files), Source: r.role, Status: state.CommitQuarantined,
	}); err != nil {
		return streamOutput{}, err
	}
	rep.Status = snapshot.StatusQuarantined
	r.saveQuality(ctx, l, rep, m.Stats)
	out := streamOutput{files: qm.Keys(), rows: qm.Rows, bytes: qm.Bytes}
	failed := &quality.FailedError{Stream: r.stream.Name, Failed: rep.Errors(), Quarantine: prefix}
	r.log.Error("stream quarantined: data quality failed", "prefix", prefix, "err", failed)
	return out, failed
}

// saveQuality keeps the report and statistics in the state store.
func (r *streamRun) saveQuality(ctx context.Context, l layout.Stream, rep quality.StreamReport, st *stats.Stream) {
	if st == nil {
		return
	}
	rep.Partition = l.Partition
	repJSON, err1 := json.Marshal(rep)
	stJSON, err2 := json.Marshal(st)
	if err := errors.Join(err1, err2); err != nil {
		r.log.Error("encode quality report", "err", err)
		return
	}
	qr := state.QualityReport{JobID: r.job.ID, Connection: r.conn.ResourceName, Stream: r.stream.Name,
		Partition: l.Partition, Status: rep.Status, Score: rep.Score, Report: repJSON, Stats: stJSON}
	for _, res := range rep.Results {
		if res.Failing() && res.Severity == "error" {
			qr.Errors++
		} else if res.Failing() {
			qr.Warnings++
		}
	}
	if err := r.syncer.State.SaveQualityReport(context.WithoutCancel(ctx), qr); err != nil {
		r.log.Error("record quality report", "err", err)
	}
}

// newQualityJob starts the checks of an attempt over the streams it runs
// (those not committed or quarantined by an earlier attempt).
func (s *Syncer) newQualityJob(job state.Job, streams []config.Stream, done map[string]StreamResult) *quality.Job {
	var names []string
	for _, str := range streams {
		if _, ok := done[str.Name]; !ok {
			names = append(names, str.Name)
		}
	}
	together := len(names) <= max(1, s.Project.Settings.Sync.ParallelStreams)
	return quality.NewJob(s.Project.Settings.Quality, job.CreatedAt.UTC().Format("2006-01-02"), names, together)
}

// rangeQuality starts the statistics of one range task's rows, gathered
// under the rules the job's owner uses (same settings, same partition day),
// so that it can merge them into the stream's; nil when checks are off.
func (r *streamRun) rangeQuality(table schema.Table) (*quality.Stream, error) {
	j := quality.NewJob(r.syncer.Project.Settings.Quality, r.job.CreatedAt.UTC().Format("2006-01-02"), []string{r.stream.Name}, false)
	return j.Begin(r.stream.Name, table, catalogKey(r.stream.PrimaryKey))
}

// summaryText is a Worker's mergeable statistics as a part's record keeps
// them; empty when none were gathered.
func summaryText(w *stats.Worker) string {
	s := w.Summary()
	if s == nil {
		return ""
	}
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	return string(b)
}

// mergePartStats merges the statistics recorded with parts (read by range
// workers of any replica, or by earlier attempts) into the stream's. When
// one holds rows but no mergeable statistics (recorded with checks off, by
// an older acode or under other rules) the stream is marked partial: the
// rules that need every row are then skipped.
func (r *streamRun) mergePartStats(qs *quality.Stream, parts []state.Part) {
	if qs == nil {
		return
	}
	for _, p := range parts {
		if p.Rows == 0 {
			continue
		}
		if err := qs.MergeSummary(p.Stats); err != nil {
			r.log.Info("statistics of a part read elsewhere are not mergeable; the rules needing every row are skipped", "part", p.Key, "err", err)
			qs.MarkPartial()
			return
		}
	}
}

// mergeSharedStats merges the statistics of the parts the range workers
// recorded for this attempt (earlier ones, already merged, are skipped).
func (r *streamRun) mergeSharedStats(ctx context.Context, qs *quality.Stream, earlier []state.Part) error {
	if qs == nil {
		return nil
	}
	parts, err := r.syncer.State.Parts(ctx, r.job.ID, r.stream.Name)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range earlier {
		seen[p.Key] = true
	}
	var fresh []state.Part
	for _, p := range parts {
		if !seen[p.Key] {
			fresh = append(fresh, p)
		}
	}
	r.mergePartStats(qs, fresh)
	return nil
}
