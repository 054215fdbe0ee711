// Package archive keeps the seed's acode_historical/monthly_snapshots/:
// each month, the last committed snapshot of every stream is copied,
// server-side, beside the bronze layer or into a separate archive bucket,
// under <prefix>/<connection>/<stream>/<YYYY-MM>/, through the commit protocol
// (parts copied and their SHA-256 verified in a staging area, then
// published under a manifest and _SUCCESS). An archived month is never
// copied twice, and a run killed half-way is finished by the next one: the
// staging area is rewritten and the manifest is written only once every
// part is verified. A month restores into any day's bronze partition the
// same way.
package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// DefaultPrefix is where archives go in the archive bucket or directory
// when archive.prefix is not set: outside s3_bucket_path, so that tables
// over the bronze prefix never read them, and under the lifecycle's
// archive rule (acode_historical/ to GLACIER, kept 7 years).
const DefaultPrefix = config.DefaultArchivePrefix

// StatusArchived is the status of an archive's manifest.
const StatusArchived = "archived"

// ErrChecksum means a copied part does not match the SHA-256 its manifest
// records: nothing was committed.
var ErrChecksum = errors.New("copied part differs from its manifest checksum")

// ErrNotArchived means the month of the stream has no archive.
var ErrNotArchived = errors.New("no archive of that month")

// Archiver archives and restores one connection's streams on its store.
type Archiver struct {
	Store storage.Store // the connection's destination: the bronze layer
	// Archive is where the archives are (archive.bucket); Store when nil.
	Archive storage.Store
	Conn    *config.Connection
	Prefix  string // DefaultPrefix when empty
	// YearlyPrefix is where Year copies the year's last monthly archive;
	// config.DefaultYearlyPrefix when empty.
	YearlyPrefix string
	Log          *slog.Logger
}

// ArchiveStore is the store that holds the archives.
func (a *Archiver) ArchiveStore() storage.Store { return a.archive() }

func (a *Archiver) archive() storage.Store {
	if a.Archive == nil {
		return a.Store
	}
	return a.Archive
}

// Outcome is what archiving one stream's month did.
type Outcome string

const (
	Archived         Outcome = "archived"           // the month's last snapshot was copied to the archive
	AlreadyArchived  Outcome = "already archived"   // the archive holds that snapshot already
	NothingToArchive Outcome = "nothing to archive" // no snapshot was committed in the month
)

// Result is one stream's archive of one month.
type Result struct {
	Connection string  `json:"connection"`
	Stream     string  `json:"stream"`
	Month      string  `json:"month"`
	From       string  `json:"from,omitempty"` // the archived bronze partition
	JobID      int64   `json:"job_id,omitempty"`
	Rows       int64   `json:"rows,omitempty"`
	Bytes      int64   `json:"bytes,omitempty"`
	Files      int     `json:"files,omitempty"`
	Manifest   string  `json:"manifest,omitempty"`
	Did        Outcome `json:"did"`
}

// Month archives the last committed snapshot of each selected stream in
// month (any time in it).
func (a *Archiver) Month(ctx context.Context, month time.Time) ([]Result, error) {
	var out []Result
	for _, s := range a.Conn.SelectedStreams() {
		r, err := a.stream(ctx, s, month)
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (a *Archiver) stream(ctx context.Context, s config.Stream, month time.Time) (Result, error) {
	res := Result{Connection: a.Conn.ResourceName, Stream: s.Name, Month: monthName(month)}
	src, err := a.lastSnapshot(ctx, s, month)
	if err != nil || src == nil {
		res.Did = NothingToArchive
		return res, err
	}
	res.From, res.JobID, res.Rows, res.Bytes, res.Files = src.Partition, src.JobID, src.Rows, src.Bytes, len(src.Files)
	l := a.layout(s.Name, month)
	res.Manifest = l.ManifestKey()
	cur, err := snapshot.ReadManifest(ctx, a.archive(), l.ManifestKey())
	switch {
	case err == nil && cur.Connection == src.Connection && cur.JobID == src.JobID && cur.Rows == src.Rows:
		res.Did = AlreadyArchived
		return res, a.dropStaging(ctx, s.Name, month)
	case err != nil && !errors.Is(err, storage.ErrNotExist):
		return res, fmt.Errorf("archive %s %s: read the archive's manifest: %w", s.Name, res.Month, err)
	}
	m := *src
	m.Status = StatusArchived
	if err := a.publish(ctx, a.Store, a.archive(), l, m, a.stagingPrefix(s.Name, month)); err != nil {
		return res, fmt.Errorf("archive %s %s: %w", s.Name, res.Month, err)
	}
	res.Did = Archived
	a.log().Info("month archived", "connection", res.Connection, "stream", s.Name, "month", res.Month,
		"from", src.Partition, "job_id", src.JobID, "rows", src.Rows)
	return res, nil
}

// lastSnapshot is the manifest of the month's latest day whose partition
// holds a committed (or promoted) snapshot; nil when none does.
func (a *Archiver) lastSnapshot(ctx context.Context, s config.Stream, month time.Time) (*snapshot.Manifest, error) {
	first := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	for day := first.AddDate(0, 1, -1); !day.Before(first); day = day.AddDate(0, 0, -1) {
		l := validate.StreamLayout(a.Conn, s, day)
		m, err := snapshot.ReadManifest(ctx, a.Store, l.ManifestKey())
		switch {
		case errors.Is(err, storage.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf("archive %s: read %s: %w", s.Name, l.ManifestKey(), err)
		case m.Status == "committed" || m.Status == "promoted":
			return m, nil
		}
	}
	return nil, nil
}

// publish copies m's parts from from into staging in to (server-side
// where the stores allow), verifies each copy's SHA-256 against m, and
// only then publishes them as l's snapshot in to.
func (a *Archiver) publish(ctx context.Context, from, to storage.Store, l layout.Stream, m snapshot.Manifest, staging string) error {
	staged := make([]snapshot.StagedPart, 0, len(m.Files))
	for i, f := range m.Files {
		key := layout.Join(staging, strconv.Itoa(i+1)+".parquet")
		if err := storage.CopyBetween(ctx, from, f.Key, to, key); err != nil {
			return fmt.Errorf("copy %s: %w", from.Location(f.Key), err)
		}
		if err := verify(ctx, to, key, f); err != nil {
			return err
		}
		staged = append(staged, snapshot.StagedPart{StagingKey: key, Name: l.PartName(m.JobID, i+1),
			Rows: f.Rows, Bytes: f.Bytes, SHA256: f.SHA256})
	}
	m.Files = nil
	committed, err := snapshot.Publish(ctx, to, l, m, staged, false)
	if committed == nil {
		return err
	}
	if err := checkSizes(ctx, to, committed); err != nil {
		return err
	}
	if derr := snapshot.DeleteStaged(ctx, to, staged); derr != nil {
		a.log().Warn("archived with staging leftovers (the next run removes them)", "partition", l.Partition, "err", derr)
	}
	return err
}

// verify reads key back and compares it with f's size and SHA-256.
func verify(ctx context.Context, st storage.Store, key string, f snapshot.File) error {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("verify %s: %w", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("verify %s: %w", key, err)
	}
	if n != f.Bytes || (f.SHA256 != "" && hex.EncodeToString(h.Sum(nil)) != f.SHA256) {
		return fmt.Errorf("%w: %s copied as %s (%d bytes, want %d)", ErrChecksum, f.Key, st.Location(key), n, f.Bytes)
	}
	return nil
}

// checkSizes compares every published part's size with its manifest: the
// last copy (staging to partition) stays on the server too.
func checkSizes(ctx context.Context, st storage.Store, m *snapshot.Manifest) error {
	for _, f := range m.Files {
		info, err := st.Stat(ctx, f.Key)
		if err != nil {
			return fmt.Errorf("check %s: %w", f.Key, err)
		}
		if info.Size != f.Bytes {
			return fmt.Errorf("%w: %s is %d bytes, want %d", ErrChecksum, f.Key, info.Size, f.Bytes)
		}
	}
	return nil
}

func (a *Archiver) prefix() string {
	if a.Prefix == "" {
		return DefaultPrefix
	}
	return a.Prefix
}

// layout is where a stream's month is archived.
func (a *Archiver) layout(stream string, month time.Time) layout.Stream {
	return layout.Stream{
		Partition:  layout.Join(a.prefix(), a.Conn.ResourceName, stream, monthName(month)),
		FilePrefix: "file_" + stream,
		Day:        month.UTC().Format("200601"),
	}
}

func (a *Archiver) stagingPrefix(stream string, month time.Time) string {
	return layout.Join(a.prefix(), ".staging", a.Conn.ResourceName, stream, monthName(month))
}

// dropStaging removes what a run killed after its commit left in staging.
func (a *Archiver) dropStaging(ctx context.Context, stream string, month time.Time) error {
	var keys []string
	err := a.archive().List(ctx, a.stagingPrefix(stream, month)+"/", func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err == nil && len(keys) > 0 {
		err = a.archive().Delete(ctx, keys...)
	}
	if err != nil {
		return fmt.Errorf("remove archive staging of %s: %w", stream, err)
	}
	return nil
}

func monthName(t time.Time) string { return t.UTC().Format("2006-01") }

func (a *Archiver) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}
