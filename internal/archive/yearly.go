package archive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// Year keeps the seed's acode_historical/yearly_archives/: for each
// selected stream, the latest monthly archive of year (any time in it) is
// copied, in the archive store, to <yearly prefix>/<connection>/<stream>/<YYYY>/
// the same verified way. Like Month it is idempotent and finished by the
// next run after a crash.
func (a *Archiver) Year(ctx context.Context, year time.Time) ([]Result, error) {
	var out []Result
	for _, s := range a.Conn.SelectedStreams() {
		r, err := a.yearOf(ctx, s.Name, year.UTC().Year())
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (a *Archiver) yearOf(ctx context.Context, stream string, year int) (Result, error) {
	name := strconv.Itoa(year)
	res := Result{Connection: a.Conn.ResourceName, Stream: stream, Month: name, Did: NothingToArchive}
	var src *snapshot.Manifest
	for mo := time.December; mo >= time.January && src == nil; mo-- {
		month := time.Date(year, mo, 1, 0, 0, 0, 0, time.UTC)
		m, err := snapshot.ReadManifest(ctx, a.archive(), a.layout(stream, month).ManifestKey())
		switch {
		case errors.Is(err, storage.ErrNotExist):
		case err != nil:
			return res, fmt.Errorf("yearly archive %s %s: %w", stream, name, err)
		default:
			src, res.From = m, monthName(month)
		}
	}
	if src == nil {
		return res, nil
	}
	res.JobID, res.Rows, res.Bytes, res.Files = src.JobID, src.Rows, src.Bytes, len(src.Files)
	l := a.yearLayout(stream, year)
	res.Manifest = l.ManifestKey()
	cur, err := snapshot.ReadManifest(ctx, a.archive(), l.ManifestKey())
	switch {
	case err == nil && cur.Connection == src.Connection && cur.JobID == src.JobID && cur.Rows == src.Rows:
		res.Did = AlreadyArchived
		return res, nil
	case err != nil && !errors.Is(err, storage.ErrNotExist):
		return res, fmt.Errorf("yearly archive %s %s: read the archive's manifest: %w", stream, name, err)
	}
	staging := layout.Join(a.yearlyPrefix(), ".staging", a.Conn.ResourceName, stream, name)
	if err := a.publish(ctx, a.archive(), a.archive(), l, *src, staging); err != nil {
		return res, fmt.Errorf("yearly archive %s %s: %w", stream, name, err)
	}
	res.Did = Archived
	a.log().Info("year archived", "connection", res.Connection, "stream", stream, "year", name, "from", res.From, "job_id", src.JobID)
	return res, nil
}

func (a *Archiver) yearlyPrefix() string {
	if a.YearlyPrefix == "" {
		return config.DefaultYearlyPrefix
	}
	return a.YearlyPrefix
}

// yearLayout is where a stream's year is archived.
func (a *Archiver) yearLayout(stream string, year int) layout.Stream {
	return layout.Stream{
		Partition:  layout.Join(a.yearlyPrefix(), a.Conn.ResourceName, stream, strconv.Itoa(year)),
		FilePrefix: "file_" + stream,
		Day:        strconv.Itoa(year),
	}
}
