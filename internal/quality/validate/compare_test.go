package validate_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestCompareBackup_FindsPlantedDifferences(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	ctx := context.Background()
	demotest.Fill(t, m, database, demo.Options{Rows: 2000, Seed: 3, Days: 3, Now: time.Now()})
	s3 := testenv.StartS3(t)
	tp := testenv.NewProject(t, m, database, s3)
	// The backup side reads the same server and writes to the same bucket,
	// under its own path.
	tp.PointBackup(t, m)
	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	run := func(conn string) *syncer.Result {
		st, err := state.Open(ctx, p.Settings.StateDB)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		res, err := (&syncer.Syncer{Project: p, State: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx, conn, syncer.Options{})
		if err != nil {
			t.Fatalf("sync %s: %v", conn, err)
		}
		return res
	}
	res := run("connection_mysql_s3_acode")
	m.Exec(t, "DELETE FROM `"+database+"`."+demo.TableDiario+" WHERE idpk IN (3, 4, 5)",
		"UPDATE `"+database+"`."+demo.TableDiario+" SET ACODE_Val_Total = ACODE_Val_Total + 1 WHERE idpk = 10")
	run("connection_mysql_s3_acode_backup")

	primary, backup := p.Connections["connection_mysql_s3_acode"], p.Connections["connection_mysql_s3_acode_backup"]
	store, err := connect.Store(ctx, primary.Destination)
	if err != nil {
		t.Fatal(err)
	}
	settings := p.Settings.Quality
	settings.BackupVarianceRows = 2
	cs, err := validate.Compare(ctx, store, store, settings, primary, backup, res.StartedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("%d comparisons, want 3", len(cs))
	}
	d := cs[0]
	if d.Stream != demo.TableDiario || d.RowDiff != 3 || d.OnlyPrimary != 3 || d.OnlyBackup != 0 ||
		len(d.OnlyPrimaryKeys) != 3 || d.OnlyPrimaryKeys[0] != "3" || d.OnlyPrimaryKeys[2] != "5" {
		t.Errorf("diario: %+v", d)
	}
	if len(d.Warnings) != 1 || d.Primary.Status != "committed" || d.Backup.Status != "committed" || d.Backup.CommittedAt.Before(d.Primary.CommittedAt) {
		t.Errorf("diario sides or variance warning: %+v", d)
	}
	differs := map[string]bool{}
	for _, c := range d.Columns {
		differs[c.Column] = c.Differs
	}
	if !differs["ACODE_Val_Total"] {
		t.Errorf("ACODE_Val_Total sums must differ: %+v", d.Columns)
	}
	if p := cs[1]; p.RowDiff != 0 || p.OnlyPrimary+p.OnlyBackup != 0 || len(p.Warnings) != 0 {
		t.Errorf("produtos is the same on both sides: %+v", p)
	}
}
