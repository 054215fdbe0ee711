package snapshot

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/storage"
)

// StagedPart is a part waiting to be published under Name in the
// partition: a copy in the staging area (StagingKey), or, on a store that
// defers uploads, an upload already at its published key that the commit
// completes (Pending).
type StagedPart struct {
	StagingKey string
	Name       string
	Rows       int64
	Bytes      int64
	SHA256     string
	// Pending is set when the part was uploaded straight to its published
	// key, invisible until completed; StagingKey is then empty.
	Pending *storage.Pending
	// Local is a copy of a pending part's bytes kept on local disk, so a
	// quarantine can store them elsewhere; "" when none was kept.
	Local string
}

// LostPartError says that a pending part can no longer be completed: its
// upload was aborted or expired (a bucket lifecycle rule) before the
// commit. Its rows must be read again.
type LostPartError struct {
	Key string
	Err error
}

func (e *LostPartError) Error() string {
	return fmt.Sprintf("part %s was lost before the commit (its upload was aborted or expired): %v", e.Key, e.Err)
}

func (e *LostPartError) Unwrap() error { return e.Err }

// Publish makes staged parts the partition's content. The order is what
// makes a crash harmless at every step:
//
//  1. parts are copied from staging into the partition, or their pending
//     uploads completed (readers of the previous manifest are unaffected; a
//     crash here leaves orphans that Cleanup removes because no manifest
//     lists them, unless the job that wrote them resumes);
//  2. the manifest is written: this single atomic PUT is the commit;
//  3. the _SUCCESS marker is written;
//  4. files no manifest lists (superseded jobs, orphans) are deleted; the
//     staged copies are the caller's to delete (DeleteStaged).
//
// With appendFiles (incremental streams) the new manifest keeps the previous
// manifest's files and adds the new ones; otherwise it replaces them.
func Publish(ctx context.Context, store storage.Store, l layout.Stream, m Manifest, staged []StagedPart, appendFiles bool) (*Manifest, error) {
	prev, err := readManifestIfAny(ctx, store, l.ManifestKey())
	if err != nil {
		return nil, err
	}
	var files []File
	if appendFiles && prev != nil {
		files = append(files, prev.Files...)
	}
	if err := copyStaged(ctx, store, l, staged); err != nil {
		return nil, err
	}
	for _, p := range staged {
		key := layout.Join(l.Partition, p.Name)
		files = append(files, File{Key: key, Rows: p.Rows, Bytes: p.Bytes, SHA256: p.SHA256, JobID: m.JobID})
	}
	m.Version = ManifestVersion
	m.Partition = l.Partition
	m.Files = files
	m.Rows, m.Bytes = 0, 0
	for _, f := range files {
		m.Rows += f.Rows
		m.Bytes += f.Bytes
	}
	if m.Status == "" {
		m.Status = "committed"
	}
	m.CommittedAt = time.Now().UTC()
	if err := writeJSON(ctx, store, l.ManifestKey(), m); err != nil {
		return nil, fmt.Errorf("commit manifest: %w", err)
	}
	marker := map[string]any{"job_id": m.JobID, "committed_at": m.CommittedAt, "rows": m.Rows}
	if err := writeJSON(ctx, store, l.SuccessKey(), marker); err != nil {
		return nil, fmt.Errorf("write success marker: %w", err)
	}
	if _, err := Cleanup(ctx, store, l.Partition, &m); err != nil {
		return &m, fmt.Errorf("committed, but cleanup failed (the next run retries it): %w", err)
	}
	return &m, nil
}

// publishCopies is how many staged parts are copied into the partition at
// once. An S3 copy of a 200 MB part takes seconds even server-side; one at a
// time, a stream's copies were most of its commit.
const publishCopies = 4

// place puts one part at its key in the partition: a completion for a
// pending upload, a copy from staging otherwise.
func place(ctx context.Context, store storage.Store, key string, p StagedPart) error {
	if p.Pending == nil {
		return store.Copy(ctx, p.StagingKey, key)
	}
	d, ok := store.(storage.Deferrer)
	if !ok {
		return fmt.Errorf("part %s is a pending upload, but %s cannot complete uploads", key, store.Location(""))
	}
	if p.Pending.Key != key {
		return fmt.Errorf("pending upload of %s cannot be published as %s", p.Pending.Key, key)
	}
	err := d.CompleteDeferred(ctx, *p.Pending)
	if errors.Is(err, storage.ErrNotExist) {
		return &LostPartError{Key: key, Err: err}
	}
	return err
}

// copyStaged places every staged part at its name in the partition, a few
// at a time; the first failure stops the rest and is returned.
func copyStaged(ctx context.Context, store storage.Store, l layout.Stream, staged []StagedPart) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(staged))
	slots := make(chan struct{}, publishCopies)
	var wg sync.WaitGroup
	for i, p := range staged {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			key := layout.Join(l.Partition, p.Name)
			if err := place(ctx, store, key, p); err != nil {
				errs[i] = fmt.Errorf("publish %s: %w", key, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		switch {
		case err == nil:
		case !errors.Is(err, context.Canceled):
			return err // the failure, not the copies it cancelled
		case first == nil:
			first = err
		}
	}
	return first
}

// DeleteStaged removes staged parts once they are published. Publish leaves
// them to the caller, which deletes a job's whole staging area at once when
// every stream is done: deleting while sibling streams still upload under
// the same prefix races the directory pruning of posix-backed stores.
func DeleteStaged(ctx context.Context, store storage.Store, staged []StagedPart) error {
	keys := stagingKeys(staged)
	if len(keys) == 0 {
		return nil
	}
	if err := store.Delete(ctx, keys...); err != nil {
		return fmt.Errorf("delete staged parts (the next run retries it): %w", err)
	}
	return nil
}

// stagingKeys are the staging-area copies among staged parts.
func stagingKeys(staged []StagedPart) []string {
	var keys []string
	for _, p := range staged {
		if p.StagingKey != "" {
			keys = append(keys, p.StagingKey)
		}
	}
	return keys
}

// Cleanup deletes the data files directly inside partition that manifest m
// does not list: parts of superseded jobs and orphans of crashed ones. Keys
// in keep stay too: the parts of the job about to resume, which a crash
// may have left completed but not yet listed. With no manifest it deletes
// nothing, because then nothing says which files are the snapshot. It
// returns the deleted keys.
func Cleanup(ctx context.Context, store storage.Store, partition string, m *Manifest, keep ...string) ([]string, error) {
	if m == nil {
		return nil, nil
	}
	live := make(map[string]bool, len(m.Files)+len(keep))
	for _, f := range m.Files {
		live[f.Key] = true
	}
	for _, k := range keep {
		live[k] = true
	}
	var dead []string
	err := store.List(ctx, partition+"/", func(o storage.ObjectInfo) error {
		rest := strings.TrimPrefix(o.Key, partition+"/")
		if strings.Contains(rest, "/") || live[o.Key] {
			return nil
		}
		if layout.IsPart(o.Key) || isOrphanTemp(o.Key) {
			dead = append(dead, o.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list partition %s: %w", partition, err)
	}
	if len(dead) == 0 {
		return nil, nil
	}
	if err := store.Delete(ctx, dead...); err != nil {
		return nil, fmt.Errorf("delete superseded files in %s: %w", partition, err)
	}
	return dead, nil
}

// RepairPartition brings a partition back to exactly what its manifest
// lists (and keep, the parts of a job about to resume), removing what a
// crashed job left behind. It is run before a job writes a partition.
func RepairPartition(ctx context.Context, store storage.Store, l layout.Stream, keep ...string) (*Manifest, []string, error) {
	m, err := readManifestIfAny(ctx, store, l.ManifestKey())
	if err != nil {
		return nil, nil, err
	}
	deleted, err := Cleanup(ctx, store, l.Partition, m, keep...)
	return m, deleted, err
}

func isOrphanTemp(key string) bool {
	return strings.HasPrefix(path.Base(key), ".acode-tmp-")
}
