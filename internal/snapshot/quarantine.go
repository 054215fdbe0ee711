package snapshot

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/storage"
)

// StatusQuarantined is the manifest status of a job whose data failed an
// error-severity quality rule.
const StatusQuarantined = "quarantined"

// QuarantinePrefix is where the files of a quarantined job go:
// <bucket path>/_quarantine/<stream>/<day>/<job>. It lies outside every
// table's prefix, so no reader of the bronze layer ever sees them.
func QuarantinePrefix(bucketPath, stream, day string, jobID int64) string {
	return layout.Join(bucketPath, "_quarantine", stream, day, strconv.FormatInt(jobID, 10))
}

// Quarantine commits staged parts under prefix instead of the partition:
// the parts are copied there, then a manifest with status quarantined (its
// Partition still naming where the data was meant to go) is written beside
// them, then the staged copies are deleted. The partition, its manifest and
// its files are not touched: the previous snapshot stays live.
//
// A pending part cannot be moved (completing it would publish it), so its
// upload is aborted and its kept local copy (Local) is stored under prefix
// instead. A pending part with no local copy (uploaded by an earlier
// process) is listed in the manifest's NotKept.
func Quarantine(ctx context.Context, store storage.Store, prefix string, l layout.Stream, m Manifest, staged []StagedPart) (*Manifest, error) {
	files := make([]File, 0, len(staged))
	for _, p := range staged {
		key := layout.Join(prefix, p.Name)
		f := File{Key: key, Rows: p.Rows, Bytes: p.Bytes, SHA256: p.SHA256, JobID: m.JobID}
		kept, err := quarantinePart(ctx, store, key, p)
		if err != nil {
			return nil, fmt.Errorf("quarantine %s: %w", key, err)
		}
		if !kept {
			f.Key = layout.Join(l.Partition, p.Name)
			m.NotKept = append(m.NotKept, f)
			continue
		}
		files = append(files, f)
	}
	m.Version = ManifestVersion
	m.Partition = l.Partition
	m.Status = StatusQuarantined
	m.Files = files
	m.Rows, m.Bytes = 0, 0
	for _, f := range files {
		m.Rows += f.Rows
		m.Bytes += f.Bytes
	}
	m.CommittedAt = time.Now().UTC()
	if err := writeJSON(ctx, store, QuarantineManifestKey(prefix), m); err != nil {
		return nil, fmt.Errorf("quarantine manifest: %w", err)
	}
	if err := store.Delete(ctx, stagingKeys(staged)...); err != nil {
		return &m, fmt.Errorf("quarantined, but deleting staged parts failed (the next run retries it): %w", err)
	}
	return &m, nil
}

// quarantinePart stores one part under key: a copy of its staged object,
// or the kept local copy of a pending one, whose upload is then aborted.
// kept is false when a pending part had no local copy.
func quarantinePart(ctx context.Context, store storage.Store, key string, p StagedPart) (kept bool, err error) {
	if p.Pending == nil {
		return true, store.Copy(ctx, p.StagingKey, key)
	}
	d, ok := store.(storage.Deferrer)
	if !ok {
		return false, fmt.Errorf("part %s is a pending upload, but %s cannot abort uploads", p.Pending.Key, store.Location(""))
	}
	if p.Local != "" {
		if err := putLocal(ctx, store, key, p.Local); err != nil {
			return false, err
		}
		kept = true
	}
	if err := d.AbortDeferred(ctx, *p.Pending); err != nil {
		return kept, fmt.Errorf("abort pending upload of %s: %w", p.Pending.Key, err)
	}
	return kept, nil
}

func putLocal(ctx context.Context, store storage.Store, key, local string) error {
	f, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("open kept copy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open kept copy: %w", err)
	}
	return storage.PutFile(ctx, store, key, f, st.Size())
}

// QuarantineManifestKey is the manifest of a quarantined job under prefix.
func QuarantineManifestKey(prefix string) string { return path.Join(prefix, layout.ManifestName) }
