package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/configexport"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMonthlyCare_BacksUpTheConfigAndArchivesTheEndedMonthOnce(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 500, s3)
	if _, errOut, code := acode(t, p, "sync", "connection_mysql_s3_acode"); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// As serve's leader would run it in the first hour of next month.
	now := time.Now().UTC()
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 30, 0, 0, time.UTC)
	if err := monthlyCare(ctx, slog.New(slog.DiscardHandler), proj, st, next); err != nil {
		t.Fatal(err)
	}
	backup := s3.ObjectPath(p.Bucket, configBackupPrefix+"/"+configexport.ObjectName(next))
	info, err := os.Stat(backup)
	if err != nil {
		t.Fatalf("no config backup: %v", err)
	}
	month := now.Format("2006-01")
	for _, stream := range []string{"farmarcas_si_analitico_diario", "farmarcas_si_analitico_diario_produtos", "farmarcas_si_analitico_diario_complemento"} {
		m := s3.ObjectPath(p.Bucket, "acode_historical/monthly_snapshots/connection_mysql_s3_acode/"+stream+"/"+month+"/_acode_manifest.json")
		if _, err := os.Stat(m); err != nil {
			t.Errorf("%s: the ended month was not archived: %v", stream, err)
		}
	}
	if at, err := st.ScheduleFire(ctx, monthlyCareSchedule); err != nil || !at.Equal(time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("recorded month %v, %v", at, err)
	}
	// The state store's copy in disaster_recovery/ opens as a store with
	// the same jobs (read from a copy: SQLite writes beside the file).
	data, err := os.ReadFile(s3.ObjectPath(p.Bucket, disasterRecoveryPrefix+"/"+stateBackupName(next)))
	if err != nil {
		t.Fatalf("no state backup: %v", err)
	}
	local := filepath.Join(t.TempDir(), "dr.db")
	if err := os.WriteFile(local, data, 0o600); err != nil {
		t.Fatal(err)
	}
	dr, err := state.Open(ctx, local)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dr.ListJobs(ctx, state.JobFilter{})
	dr.Close()
	want, _ := st.ListJobs(ctx, state.JobFilter{})
	if err != nil || len(got) == 0 || len(got) != len(want) || got[0].ID != want[0].ID || got[0].Status != want[0].Status {
		t.Errorf("state backup jobs %d (%v), want %d", len(got), err, len(want))
	}
	// Later in the month: done already, nothing is written again.
	if err := monthlyCare(ctx, slog.New(slog.DiscardHandler), proj, st, next.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if again, err := os.Stat(backup); err != nil || !again.ModTime().Equal(info.ModTime()) {
		t.Errorf("the config backup was written again (%v)", err)
	}
}

func TestServe_LeaderRunsTheMonthlyCareAtStart(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), s3)
	sp := startServe(t, p)
	backup := s3.ObjectPath(p.Bucket, configBackupPrefix+"/"+configexport.ObjectName(time.Now()))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(backup); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s 30s after start:\n%s", filepath.Base(backup), sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitLog(t, sp, "monthly archive", "nothing to archive")
}
