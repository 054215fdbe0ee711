package archive

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// Entry is one archived month of one stream.
type Entry struct {
	Connection  string `json:"connection"`
	Stream      string `json:"stream"`
	Month       string `json:"month"`
	FromDay     string `json:"from_day"` // the bronze day it was copied from
	JobID       int64  `json:"job_id"`
	Rows        int64  `json:"rows"`
	Bytes       int64  `json:"bytes"`
	Files       int    `json:"files"`
	ArchivedAt  string `json:"archived_at"`
	ManifestKey string `json:"manifest"`
}

// List returns every archive under prefix (DefaultPrefix when empty) in
// st, by connection, stream and month.
func List(ctx context.Context, st storage.Store, prefix string) ([]Entry, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	var keys []string
	err := st.List(ctx, strings.TrimSuffix(prefix, "/")+"/", func(o storage.ObjectInfo) error {
		if path.Base(o.Key) == layout.ManifestName && !strings.Contains(o.Key, "/.staging/") {
			keys = append(keys, o.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list archives: %w", err)
	}
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		m, err := snapshot.ReadManifest(ctx, st, k)
		if err != nil {
			return out, fmt.Errorf("list archives: %w", err)
		}
		out = append(out, Entry{Connection: m.Connection, Stream: m.Stream, Month: path.Base(path.Dir(k)),
			FromDay: sourcePartition(m), JobID: m.JobID, Rows: m.Rows, Bytes: m.Bytes, Files: len(m.Files),
			ArchivedAt: m.CommittedAt.UTC().Format("2006-01-02T15:04:05Z"), ManifestKey: k})
	}
	return out, nil
}

// sourcePartition is the bronze day an archive came from, by its job's
// start (the partition a sync names after its start).
func sourcePartition(m *snapshot.Manifest) string { return m.StartedAt.UTC().Format("2006-01-02") }
