package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/promote"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/stats"
	"github.com/acode-dev/acode/internal/storage"
)

// mergeOutput collects the merged rows: the parts being written and the
// statistics of what they hold (the merged manifest's Stats).
type mergeOutput struct {
	in        *mergeInput
	parts     *partWriter
	worker    *stats.Worker
	gather    *stats.Gatherer
	maxCursor pq.Value
	cursorTxt string
}

// write runs the row passes: every row that is its key's winner goes to
// the merged parts, in file order within each bucket.
func (in *mergeInput) write(out *mergeOutput, keys map[string]winner, statsColumns []string) error {
	buckets := in.passes()
	var kb []byte
	for b := range buckets {
		if keys == nil || buckets > 1 {
			var err error
			if keys, err = in.keyPass(b, buckets); err != nil {
				return err
			}
		}
		in.decodeOnly(statsColumns)
		for fi, f := range in.files {
			dec, row := in.decoders[fi], int64(-1)
			err := parquet.EachRow(f.File, func(r pq.Row) error {
				row++
				text, err := dec.Text(r)
				if err != nil {
					return err
				}
				kb = in.appendKey(kb[:0], text)
				if buckets > 1 && int(maphash.Bytes(in.seed, kb)%uint64(buckets)) != b {
					return nil
				}
				if w := keys[string(kb)]; int(w.file) != fi || w.row != row {
					return nil
				}
				if cur := dec.Value(in.cursorCol); in.newer(cur, out.maxCursor) {
					out.maxCursor, out.cursorTxt = cur.Clone(), string(text[in.cursorCol])
				}
				out.worker.Observe(text)
				return out.parts.write(r)
			})
			if err != nil {
				return fmt.Errorf("merge rows of %s: %w", f.Key, err)
			}
		}
	}
	return nil
}

// commitMerge writes the merged snapshot into the primary partition l
// through the commit protocol: parts staged, manifest (status promoted,
// with Merge set) published, superseded parts removed, commit recorded.
func (r *Reconciler) commitMerge(ctx context.Context, store storage.Store, primary *config.Connection, l layout.Stream,
	in *mergeInput, keys map[string]winner, counts mergeCounts) (*snapshot.Manifest, error) {
	dir, err := os.MkdirTemp("", "acode-merge-*")
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	defer os.RemoveAll(dir)
	table := in.primary.Table()
	day := in.primary.StartedAt.UTC().Format(time.DateOnly)
	settings := r.Project.Settings.Quality
	spec := quality.SpecFor(settings, in.stream.Name, table, in.keyNames, day)
	g, err := stats.NewGatherer(table, spec)
	if err != nil {
		return nil, fmt.Errorf("merge statistics: %w", err)
	}
	out := &mergeOutput{in: in, gather: g, worker: g.NewWorker(), parts: newPartWriter(dir, in.files[0].File)}
	if err := in.write(out, keys, spec.Columns()); err != nil {
		out.parts.abort()
		return nil, err
	}
	parts, err := out.parts.close()
	if err != nil {
		return nil, err
	}
	g.Add(out.worker)
	tag := mergeTag(in.primary, in.backup, in.backupKey)
	prefix := layout.StagingPrefix(primary.Destination.BucketPath, primary.ResourceName+".merge", in.primary.JobID)
	staged := make([]snapshot.StagedPart, 0, len(parts))
	for i, p := range parts {
		sp := snapshot.StagedPart{StagingKey: layout.Join(prefix, in.stream.Name, tag, strconv.Itoa(i+1)+".parquet"),
			Name: strings.TrimSuffix(l.PartName(in.primary.JobID, i+1), ".parquet") + "_merge" + tag + ".parquet",
			Rows: p.rows, Bytes: p.bytes, SHA256: p.sha256}
		if err := putFile(ctx, store, sp.StagingKey, p.path, p.bytes); err != nil {
			return nil, fmt.Errorf("stage merged part: %w", err)
		}
		staged = append(staged, sp)
	}
	m := *in.primary
	m.Status, m.Files, m.Stats = promote.StatusPromoted, nil, g.Result()
	if out.cursorTxt != "" {
		m.Cursor = out.cursorTxt
	}
	m.Quality = summarize(quality.Evaluate(quality.Input{Stream: in.stream.Name, Settings: settings, Stats: m.Stats,
		Written: counts.rows, Day: day}), settings.ScoreThreshold)
	m.Merge = &snapshot.Merge{PrimaryManifest: l.ManifestKey(), PrimaryJobID: in.primary.JobID,
		BackupManifest: in.backupKey, BackupJobID: in.backup.JobID, Key: in.keyNames, CursorField: table.Columns[in.cursorCol].Name,
		Added: counts.added, Replaced: counts.replaced, Dropped: counts.dropped, Passes: in.passes()}
	committed, err := snapshot.Publish(ctx, store, l, m, staged, false)
	if committed == nil {
		return nil, fmt.Errorf("merge %s: %w", l.Partition, err)
	}
	if err == nil {
		err = snapshot.DeleteStaged(ctx, store, staged)
	}
	if err != nil {
		r.log().Warn("merged with leftovers", "partition", l.Partition, "err", err)
	}
	if r.State != nil {
		if err := r.State.RecordCommit(ctx, state.Commit{
			Connection: primary.ResourceName, Stream: in.stream.Name, Partition: l.Partition, JobID: committed.JobID,
			ManifestKey: l.ManifestKey(), Rows: committed.Rows, Bytes: committed.Bytes, Files: len(committed.Files),
			Source: committed.Source.Role, Status: state.CommitPromoted,
		}); err != nil {
			return committed, fmt.Errorf("merged, but recording the commit failed: %w", err)
		}
	}
	return committed, nil
}

// summarize is the manifest's record of a report, as the sync writes it.
func summarize(rep quality.StreamReport, threshold float64) *snapshot.Quality {
	q := &snapshot.Quality{Score: rep.Score, Passed: rep.Score >= threshold}
	for _, res := range rep.Results {
		switch {
		case !res.Failing():
		case res.Severity == failure.Error:
			q.Errors, q.Passed = append(q.Errors, res.Rule), false
		default:
			q.Warnings = append(q.Warnings, res.Rule)
		}
	}
	return q
}

func putFile(ctx context.Context, store storage.Store, key, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return store.Put(ctx, key, f, size)
}

// localPart is one merged part written to a temp file.
type localPart struct {
	path   string
	rows   int64
	bytes  int64
	sha256 string
}

// partWriter writes rows with the input files' schema and codec into parts
// of at most mergeRowsPerPart rows, each row group bounded so a part is
// never held in memory whole.
type partWriter struct {
	dir    string
	schema *pq.Schema
	opts   []pq.WriterOption
	f      *os.File
	w      *pq.Writer
	rows   int64
	done   []localPart
	one    []pq.Row
}

func newPartWriter(dir string, like *pq.File) *partWriter {
	opts := []pq.WriterOption{like.Schema(), pq.MaxRowsPerRowGroup(100_000), pq.CreatedBy("acode", "reconcile", "merge")}
	if rgs := like.Metadata().RowGroups; len(rgs) > 0 && len(rgs[0].Columns) > 0 {
		opts = append(opts, pq.Compression(parquet.CodecOf(rgs[0].Columns[0].MetaData.Codec)))
	}
	if geo, ok := like.Lookup("geo"); ok {
		// GeoParquet metadata: without it readers see the spatial columns
		// as plain bytes. Both sides are the same table, so one side's says
		// what the merged values are.
		opts = append(opts, pq.KeyValueMetadata("geo", geo))
	}
	return &partWriter{dir: dir, schema: like.Schema(), opts: opts, one: make([]pq.Row, 1)}
}

func (p *partWriter) write(row pq.Row) error {
	if p.w == nil {
		f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("part-%03d.parquet", len(p.done)+1)))
		if err != nil {
			return fmt.Errorf("merged part: %w", err)
		}
		p.f, p.w, p.rows = f, pq.NewWriter(f, p.opts...), 0
	}
	p.one[0] = row
	if _, err := p.w.WriteRows(p.one); err != nil {
		return fmt.Errorf("write merged row: %w", err)
	}
	p.rows++
	if p.rows >= mergeRowsPerPart {
		return p.finish()
	}
	return nil
}

// finish closes the current part and hashes it.
func (p *partWriter) finish() error {
	if p.w == nil {
		return nil
	}
	w, f := p.w, p.f
	p.w, p.f = nil, nil
	if err := w.Close(); err != nil {
		f.Close()
		return fmt.Errorf("close merged part: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync merged part: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("hash merged part: %w", err)
	}
	p.done = append(p.done, localPart{path: f.Name(), rows: p.rows, bytes: n, sha256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

func (p *partWriter) close() ([]localPart, error) {
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.done, nil
}

func (p *partWriter) abort() {
	if p.f != nil {
		p.f.Close()
	}
}
