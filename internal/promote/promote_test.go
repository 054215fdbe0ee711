package promote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	primaryConn = "connection_mysql_s3_acode"
	backupConn  = "connection_mysql_s3_acode_backup"
	diario      = "farmarcas_si_analitico_diario"
)

type fixture struct {
	ctx     context.Context
	db      *testenv.MariaDB
	s3      *testenv.S3Server
	project *testenv.Project
	p       *config.Project
	st      *state.Store
	rows    int64
}

// newFixture fills the seed's three tables and points both sources of the
// example project at them (the backup "replica" is the same server here:
// promotion is about storage), both connections writing to one bucket.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), db: testenv.SharedMariaDB(t), s3: testenv.StartS3(t)}
	database := f.db.NewDatabase(t)
	root := f.db.Root(t)
	if err := demo.CreateSchema(f.ctx, root, database); err != nil {
		t.Fatal(err)
	}
	counts, err := demo.Fill(f.ctx, root, database, demo.Options{Rows: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	f.rows = counts.Diario
	f.project = testenv.NewProject(t, f.db, database, f.s3)
	f.project.PointBackup(t, f.db)
	f.load(t)
	return f
}

func (f *fixture) load(t *testing.T) {
	t.Helper()
	p, err := config.Load(f.project.Dir, f.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
	if f.st == nil {
		if f.st, err = state.Open(f.ctx, p.Settings.StateDB); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.st.Close() })
	}
}

func (f *fixture) sync(t *testing.T, conn, role string) *syncer.Result {
	t.Helper()
	s := &syncer.Syncer{Project: f.p, State: f.st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res, err := s.Run(f.ctx, conn, syncer.Options{Role: role})
	if err != nil {
		t.Fatalf("sync %s: %v", conn, err)
	}
	return res
}

func (f *fixture) promoter() *Promoter { return &Promoter{State: f.st} }

func (f *fixture) manifest(t *testing.T, conn *config.Connection, key string) *snapshot.Manifest {
	t.Helper()
	store, err := connect.Store(f.ctx, conn.Destination)
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.ReadManifest(f.ctx, store, key)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// keys reads the partition's parquet files with DuckDB: rows, distinct keys
// and whether they are exactly the table's keys.
func (f *fixture) checkPartition(t *testing.T, partition string, wantRows int64) {
	t.Helper()
	glob := f.s3.ObjectPath(f.project.Bucket, partition) + "/*.parquet"
	got := testenv.DuckDB(t).Query(t, fmt.Sprintf(
		"SELECT count(*) AS n, count(DISTINCT idpk) AS d, min(idpk) AS lo, max(idpk) AS hi FROM read_parquet(%s)", testenv.SQLString(glob)))
	n, d := fmt.Sprint(got[0]["n"]), fmt.Sprint(got[0]["d"])
	if n != strconv.FormatInt(wantRows, 10) || d != n {
		t.Errorf("%s: %s rows, %s distinct keys; want %d each", partition, n, d, wantRows)
	}
}

func TestPartition_CopiesTheBackupSnapshotIntoThePrimaryLayoutServerSide(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := f.sync(t, backupConn, "backup")
	backup, primary := f.p.Connections[backupConn], f.p.Connections[primaryConn]

	var promoted []Result
	for _, s := range res.Streams {
		r, err := f.promoter().Partition(f.ctx, backup, primary, s.Manifest)
		if err != nil {
			t.Fatalf("promote %s: %v", s.Name, err)
		}
		promoted = append(promoted, r)
	}
	for _, r := range promoted {
		if r.Skipped != "" || r.Copy != "server-side" || !strings.Contains(r.To, "database=bronze_acode/") ||
			!strings.Contains(r.From, "database=bronze_acode_backup/") {
			t.Errorf("promotion: %+v", r)
		}
		m := f.manifest(t, primary, r.Manifest)
		if m.Status != "promoted" || m.Source.Role != "backup" || m.JobID != res.JobID || m.Rows != r.Rows || len(m.Files) != len(r.Files) {
			t.Errorf("promoted manifest: status %s role %s job %d rows %d", m.Status, m.Source.Role, m.JobID, m.Rows)
		}
		c, err := f.st.Commit(f.ctx, primaryConn, r.Stream, r.To)
		if err != nil || c.Status != state.CommitPromoted || c.Source != "backup" {
			t.Errorf("recorded commit: %+v, %v", c, err)
		}
	}
	f.checkPartition(t, promoted[0].To, f.rows)
	f.checkPartition(t, promoted[0].From, f.rows) // the backup keeps its own copy

	// Promoting the same snapshot again copies nothing.
	again, err := f.promoter().Partition(f.ctx, backup, primary, res.Streams[0].Manifest)
	if err != nil || again.Skipped != "already promoted" {
		t.Errorf("second promotion: %+v, %v", again, err)
	}

	// The primary re-syncs the day: its snapshot replaces the promoted one,
	// with no duplicate rows, and the older backup snapshot is not promoted over it.
	time.Sleep(10 * time.Millisecond)
	own := f.sync(t, primaryConn, "primary")
	m := f.manifest(t, primary, own.Streams[0].Manifest)
	if m.Status != "committed" || m.Source.Role != "primary" {
		t.Errorf("after the primary's sync: %s %s", m.Status, m.Source.Role)
	}
	f.checkPartition(t, own.Streams[0].Partition, f.rows)
	late, err := f.promoter().Partition(f.ctx, backup, primary, res.Streams[0].Manifest)
	if err != nil || !strings.Contains(late.Skipped, "newer") {
		t.Errorf("promotion over a newer primary snapshot: %+v, %v", late, err)
	}
}

func TestPartition_StreamsAcrossStoresAndChecksEveryByte(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The backup writes to a local directory: a different store than the
	// primary's bucket.
	f.project.Edit(t, "connections/connection_mysql_s3_acode_backup/configuration.yaml",
		"destinations/destination_s3_acode_backup/configuration.yaml", "destinations/destination_local_acode/configuration.yaml")
	f.load(t)
	res := f.sync(t, backupConn, "backup")
	backup, primary := f.p.Connections[backupConn], f.p.Connections[primaryConn]

	r, err := f.promoter().Partition(f.ctx, backup, primary, res.Streams[0].Manifest)
	if err != nil || r.Copy != "streamed" {
		t.Fatalf("promotion across stores: %+v, %v", r, err)
	}
	f.checkPartition(t, r.To, f.rows)

	// A backup part altered after its commit is refused, and nothing is
	// committed in the primary's partition.
	m := f.manifest(t, backup, res.Streams[1].Manifest)
	corrupt(t, filepath.Join(f.project.LocalRoot(), filepath.FromSlash(m.Files[0].Key)))
	bad, err := f.promoter().Partition(f.ctx, backup, primary, res.Streams[1].Manifest)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("corrupt part: %+v, %v; want ErrChecksum", bad, err)
	}
	if _, err := os.Stat(f.s3.ObjectPath(f.project.Bucket, bad.To+"/_acode_manifest.json")); !os.IsNotExist(err) {
		t.Errorf("a manifest was committed for the refused promotion (%v)", err)
	}
}

// corrupt flips one byte in the middle of a file in place.
func corrupt(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
