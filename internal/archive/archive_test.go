package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/file"
)

// fixture is a local destination with one stream committed on two days of
// November, through the commit protocol.
func fixture(t *testing.T) (*Archiver, storage.Store) {
	t.Helper()
	st, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conn := &config.Connection{ResourceName: "conn", Source: &config.Source{Database: "db"},
		Destination: &config.Destination{Kind: config.KindLocal, BucketPath: "bronze", PathFormat: "${STREAM_NAME}/cog_dt_ingestion=${YEAR}-${MONTH}-${DAY}/file_${STREAM_NAME}"},
		Streams:     []config.Stream{{Name: "t1", Selected: true}}}
	for i, day := range []time.Time{time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)} {
		commit(t, st, conn, day, int64(i+1), []byte("parquet bytes of job "+string(rune('A'+i))))
	}
	return &Archiver{Store: st, Conn: conn}, st
}

func commit(t *testing.T, st storage.Store, conn *config.Connection, day time.Time, job int64, body []byte) {
	t.Helper()
	ctx := context.Background()
	l := validate.StreamLayout(conn, conn.Streams[0], day)
	key := layout.Join("bronze/.staging", l.PartName(job, 1))
	if err := st.Put(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	m := snapshot.Manifest{Connection: conn.ResourceName, Stream: "t1", Namespace: "db", JobID: job, StartedAt: day}
	if _, err := snapshot.Publish(ctx, st, l, m, []snapshot.StagedPart{{StagingKey: key, Name: l.PartName(job, 1),
		Rows: 10 * job, Bytes: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}}, false); err != nil {
		t.Fatal(err)
	}
}

func TestMonth_TakesTheLastDayAndFinishesWhatACrashedRunLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, st := fixture(t)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// A run killed while staging left a half-written copy and no manifest.
	junk := []byte("half a copy")
	if err := st.Put(ctx, layout.Join(a.stagingPrefix("t1", nov), "1.parquet"), bytes.NewReader(junk), int64(len(junk))); err != nil {
		t.Fatal(err)
	}
	res, err := a.Month(ctx, nov)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Did != Archived || res[0].JobID != 2 || res[0].Rows != 20 {
		t.Fatalf("archive %+v, want job 2 of Nov 28", res)
	}
	m, err := snapshot.ReadManifest(ctx, st, res[0].Manifest)
	if err != nil || m.Status != StatusArchived || len(m.Files) != 1 {
		t.Fatalf("archive manifest %+v, %v", m, err)
	}
	rc, err := st.Open(ctx, m.Files[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	rc.Close()
	if buf.String() != "parquet bytes of job B" {
		t.Errorf("archived part holds %q", buf.String())
	}
	// A run killed after its commit left staging: the next one only cleans.
	if err := st.Put(ctx, layout.Join(a.stagingPrefix("t1", nov), "1.parquet"), bytes.NewReader(junk), int64(len(junk))); err != nil {
		t.Fatal(err)
	}
	again, err := a.Month(ctx, nov)
	if err != nil || again[0].Did != AlreadyArchived {
		t.Fatalf("second run %+v, %v", again, err)
	}
	var left []string
	st.List(ctx, a.stagingPrefix("t1", nov)+"/", func(o storage.ObjectInfo) error { left = append(left, o.Key); return nil })
	if len(left) != 0 {
		t.Errorf("staging left: %v", left)
	}
	entries, err := List(ctx, st, "")
	if err != nil || len(entries) != 1 || entries[0].Month != "2026-11" || entries[0].FromDay != "2026-11-28" {
		t.Errorf("list %+v, %v", entries, err)
	}
	// A month without commits has nothing to archive.
	if res, err := a.Month(ctx, nov.AddDate(0, 1, 0)); err != nil || res[0].Did != NothingToArchive {
		t.Errorf("December: %+v, %v", res, err)
	}
}

// A separate archive store (another directory here: the copy is read and
// written): the month is archived there only; the year's last monthly
// archive is copied under the yearly prefix once; a restore reads the
// archive store and writes the bronze one.
func TestYear_KeepsTheYearsLastMonthInASeparateArchiveStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, bronze := fixture(t)
	arch, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a.Archive = arch
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if res, err := a.Month(ctx, nov); err != nil || res[0].Did != Archived {
		t.Fatalf("month: %+v, %v", res, err)
	}
	if _, err := bronze.Stat(ctx, layout.Join(DefaultPrefix, "conn/t1/2026-11", layout.ManifestName)); err == nil {
		t.Error("the month was archived in the bronze store")
	}
	year, err := a.Year(ctx, nov)
	if err != nil || len(year) != 1 || year[0].Did != Archived || year[0].From != "2026-11" || year[0].JobID != 2 {
		t.Fatalf("year: %+v, %v", year, err)
	}
	if again, err := a.Year(ctx, nov); err != nil || again[0].Did != AlreadyArchived {
		t.Errorf("second year run: %+v, %v", again, err)
	}
	entries, err := List(ctx, arch, "acode_historical/yearly_archives")
	if err != nil || len(entries) != 1 || entries[0].Month != "2026" || entries[0].Rows != 20 {
		t.Errorf("yearly list %+v, %v", entries, err)
	}
	if res, err := a.Year(ctx, nov.AddDate(1, 0, 0)); err != nil || res[0].Did != NothingToArchive {
		t.Errorf("2027: %+v, %v", res, err)
	}
	day := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	r, err := a.Restore(ctx, "t1", nov, day, false)
	if err != nil || r.Rows != 20 {
		t.Fatalf("restore: %+v, %v", r, err)
	}
	m, err := snapshot.ReadManifest(ctx, bronze, r.Manifest)
	if err != nil || m.Status != "committed" || len(m.Files) != 1 {
		t.Errorf("restored manifest %+v, %v", m, err)
	}
}
