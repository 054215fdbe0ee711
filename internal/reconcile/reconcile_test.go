package reconcile_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/reconcile"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	primaryConn = "connection_mysql_s3_acode"
	backupConn  = "connection_mysql_s3_acode_backup"
)

func TestReconcile_PromotesTheBackupOverADamagedDayAndIsIdempotent(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	ctx := context.Background()
	demotest.Fill(t, m, database, demo.Options{Rows: 2000, Seed: 9, Days: 3, Now: time.Now()})
	s3 := testenv.StartS3(t)
	tp := testenv.NewProject(t, m, database, s3)
	tp.PointBackup(t, m)
	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func(conn, role string) *syncer.Result {
		res, err := (&syncer.Syncer{Project: p, State: st, Log: log}).Run(ctx, conn, syncer.Options{Role: role})
		if err != nil {
			t.Fatalf("sync %s: %v", conn, err)
		}
		return res
	}
	first := run(primaryConn, "primary")
	damaged := first.Streams[0] // diario: one of its files disappears
	if err := os.Remove(filepath.Join(s3.Dir, tp.Bucket, damaged.Files[0])); err != nil {
		t.Fatal(err)
	}
	run(backupConn, "backup")
	primary, backup := p.Connections[primaryConn], p.Connections[backupConn]
	day := []time.Time{first.StartedAt}

	dry, err := (&reconcile.Reconciler{Project: p, State: st, Log: log, DryRun: true}).Days(ctx, primary, backup, day)
	if err != nil {
		t.Fatal(err)
	}
	if dry[0].Primary != "damaged" || dry[0].Backup != "valid" || dry[0].Did != "would promote" || dry[1].Did != "nothing" {
		t.Fatalf("dry run: %+v", dry)
	}
	if v, _ := validate.Day(ctx, p, primary, first.StartedAt, st, validate.Options{}); v.Passed {
		t.Fatal("the dry run repaired the day")
	}

	rec := &reconcile.Reconciler{Project: p, State: st, Log: log}
	acts, err := rec.Days(ctx, primary, backup, day)
	if err != nil {
		t.Fatal(err)
	}
	if acts[0].Did != "promoted" || acts[0].Rows != 2000 || acts[1].Did != "nothing" || acts[2].Did != "nothing" {
		t.Fatalf("reconcile: %+v", acts)
	}
	v, err := validate.Day(ctx, p, primary, first.StartedAt, st, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Passed || v.Partitions[0].Status != "promoted" || v.Partitions[0].Source != "backup" || v.Partitions[0].Rows != 2000 {
		t.Fatalf("after reconcile the day must validate with the promoted snapshot: %+v", v.Partitions[0])
	}
	again, err := rec.Days(ctx, primary, backup, day)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		if a.Did != "nothing" || a.Primary != "valid" {
			t.Errorf("second run changed something: %+v", a)
		}
	}
}
