package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// ErrPartitionExists means the day to restore into already holds a
// committed snapshot and replacing it was not asked for.
var ErrPartitionExists = errors.New("the day's partition already holds a snapshot")

// Restored is what Restore did.
type Restored struct {
	Stream   string `json:"stream"`
	Month    string `json:"month"`
	To       string `json:"to"` // the bronze partition written
	JobID    int64  `json:"job_id"`
	Rows     int64  `json:"rows"`
	Files    int    `json:"files"`
	Manifest string `json:"manifest"`
}

// Restore copies the archive of stream's month into the bronze partition
// of day, through the same verified copy and commit. It refuses a day that
// already has a snapshot unless replace.
func (a *Archiver) Restore(ctx context.Context, stream string, month, day time.Time, replace bool) (Restored, error) {
	s, ok := a.selected(stream)
	if !ok {
		return Restored{}, fmt.Errorf("restore: connection %s has no selected stream %q", a.Conn.ResourceName, stream)
	}
	src := a.layout(stream, month)
	m, err := snapshot.ReadManifest(ctx, a.archive(), src.ManifestKey())
	if errors.Is(err, storage.ErrNotExist) {
		return Restored{}, fmt.Errorf("restore %s %s: %w (acode archive --list shows what there is)", stream, monthName(month), ErrNotArchived)
	}
	if err != nil {
		return Restored{}, fmt.Errorf("restore %s %s: %w", stream, monthName(month), err)
	}
	to := validate.StreamLayout(a.Conn, s, day)
	if _, err := snapshot.ReadManifest(ctx, a.Store, to.ManifestKey()); err == nil && !replace {
		return Restored{}, fmt.Errorf("restore into %s: %w (pass --replace to replace it)", to.Partition, ErrPartitionExists)
	}
	rm := *m
	rm.Status = "committed"
	if err := a.publish(ctx, a.archive(), a.Store, to, rm, a.restoreStaging(stream, month, day)); err != nil {
		return Restored{}, fmt.Errorf("restore %s %s into %s: %w", stream, monthName(month), to.Partition, err)
	}
	a.log().Info("archive restored", "stream", stream, "month", monthName(month), "to", to.Partition, "rows", m.Rows)
	return Restored{Stream: stream, Month: monthName(month), To: to.Partition, JobID: m.JobID, Rows: m.Rows,
		Files: len(m.Files), Manifest: to.ManifestKey()}, nil
}

func (a *Archiver) selected(name string) (config.Stream, bool) {
	for _, s := range a.Conn.SelectedStreams() {
		if s.Name == name {
			return s, true
		}
	}
	return config.Stream{}, false
}

// restoreStaging is where a restore stages its copies: in the bronze
// store's staging area (outside every table's prefix), so a separate
// archive bucket is only read.
func (a *Archiver) restoreStaging(stream string, month, day time.Time) string {
	bp := ""
	if d := a.Conn.Destination; d != nil {
		bp = strings.Trim(d.BucketPath, "/")
	}
	return layout.Join(bp, "_acode_staging", "_archive_restore", a.Conn.ResourceName, stream,
		monthName(month)+"-to-"+day.UTC().Format("20060102"))
}
