package snapshot

import (
	"context"
	"fmt"
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
func Quarantine(ctx context.Context, store storage.Store, prefix string, l layout.Stream, m Manifest, staged []StagedPart) (*Manifest, error) {
	files := make([]File, 0, len(staged))
	for _, p := range staged {
		key := layout.Join(prefix, p.Name)
		if err := store.Copy(ctx, p.StagingKey, key); err != nil {
			return nil, fmt.Errorf("quarantine %s: %w", key, err)
		}
		files = append(files, File{Key: key, Rows: p.Rows, Bytes: p.Bytes, SHA256: p.SHA256, JobID: m.JobID})
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
	keys := make([]string, len(staged))
	for i, p := range staged {
		keys[i] = p.StagingKey
	}
	if err := store.Delete(ctx, keys...); err != nil {
		return &m, fmt.Errorf("quarantined, but deleting staged parts failed (the next run retries it): %w", err)
	}
	return &m, nil
}

// QuarantineManifestKey is the manifest of a quarantined job under prefix.
func QuarantineManifestKey(prefix string) string { return path.Join(prefix, layout.ManifestName) }
