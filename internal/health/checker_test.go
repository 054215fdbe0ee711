package health_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/testenv"
)

// pairProject is the example project on a real primary and its replica,
// with the backup source pointed at the replica.
func pairProject(t *testing.T) (*testenv.Project, *testenv.MariaDB, *testenv.MariaDB) {
	t.Helper()
	primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	replica := testenv.StartReplica(t, primary)
	dbName := "acode_" + strconv.Itoa(primary.Port)
	primary.Exec(t, "CREATE DATABASE "+dbName,
		"CREATE TABLE "+dbName+".farmarcas_si_analitico_diario (idpk INT PRIMARY KEY, Data_Processamento DATE)",
		"INSERT INTO "+dbName+".farmarcas_si_analitico_diario VALUES (1, UTC_DATE())")
	p := testenv.NewProject(t, primary, dbName, nil)
	// MariaDB 10.5+ needs SLAVE MONITOR for SHOW SLAVE STATUS; granted on the
	// primary, it replicates to the backup.
	primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	p.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", "port: 3306", "port: "+strconv.Itoa(replica.Port))
	replica.WaitReplicaCaughtUp(t, primary)
	return p, primary, replica
}

func find(results []health.Result, check, target string) health.Result {
	for _, r := range results {
		if r.Check == check && r.Target == target {
			return r
		}
	}
	return health.Result{}
}

func TestChecker_RunsEveryCheckOnTheProjectAndRecordsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, primary, _ := pairProject(t)
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A backup job succeeded: the pair's data is fresh.
	j, err := st.CreateJob(ctx, "connection_mysql_s3_acode_backup", "backup", "test:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishJob(ctx, j.ID, state.JobSucceeded, "", 10, 100); err != nil {
		t.Fatal(err)
	}
	bucket := t.TempDir()
	c := &health.Checker{Project: proj, State: st,
		OpenStore: func(_ context.Context, dst *config.Destination) (storage.Store, error) {
			return file.New(filepath.Join(bucket, dst.ResourceName))
		}}
	results, err := c.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		check, target string
		status        failure.Severity
		msg           string
	}{
		{health.CheckConnectivity, "source_mysql_acode", failure.OK, "SELECT 1 answered"},
		{health.CheckConnectivity, "source_mysql_acode_backup", failure.OK, "SELECT 1 answered"},
		{health.CheckFreshness, "source_mysql_acode", failure.OK, "newest Data_Processamento"},
		{health.CheckFreshness, "source_mysql_acode_backup", failure.OK, "newest Data_Processamento"},
		{health.CheckReplicationLag, "source_mysql_acode_backup", failure.OK, "replicating"},
		{health.CheckLastSync, "connection_mysql_s3_acode", failure.OK, "connection_mysql_s3_acode_backup (backup)"},
		{health.CheckLastSync, "connection_mysql_local_acode", failure.Warning, "no successful sync"},
		{health.CheckUploads, "destination_s3_acode", failure.Warning, "no committed partition"},
		{health.CheckConnectionStatus, "connection_mysql_s3_acode_backup", failure.OK, "active"},
	} {
		r := find(results, want.check, want.target)
		if r.Status != want.status || !strings.Contains(r.Message, want.msg) {
			t.Errorf("%s %s = %s %q, want %s containing %q", want.check, want.target, r.Status, r.Message, want.status, want.msg)
		}
	}
	if r := find(results, health.CheckReplicationLag, "source_mysql_acode"); r.Check != "" {
		t.Errorf("replication lag checked on the primary: %+v", r)
	}
	if got := health.Worst(results); got != failure.Warning {
		t.Errorf("Worst = %s, want warning (no uploads yet)", got)
	}
	if err := c.Record(ctx, results); err != nil {
		t.Fatal(err)
	}
	latest, err := st.LatestHealth(ctx)
	if err != nil || len(latest) != len(results) {
		t.Errorf("history: %d latest results, %v; want %d", len(latest), err, len(results))
	}

	primary.Kill(t)
	results, err = c.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	down := find(results, health.CheckConnectivity, "source_mysql_acode")
	if down.Status != failure.Critical || down.Err == nil || down.Class != failure.ClassPrimaryDBDown {
		t.Errorf("killed primary: %+v", down)
	}
	if r := find(results, health.CheckFreshness, "source_mysql_acode"); r.Status != failure.Warning || !strings.Contains(r.Message, "unreachable") {
		t.Errorf("freshness of a dead primary: %+v", r)
	}
	if health.Worst(results) != failure.Critical {
		t.Errorf("Worst with a dead primary = %s", health.Worst(results))
	}
	for _, r := range results {
		if strings.Contains(r.Message, testenv.ProjectPassword) {
			t.Errorf("password in %s %s: %s", r.Check, r.Target, r.Message)
		}
	}
}

func TestLastSyncAndUploads_GradeAges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := time.Date(2025, 8, 7, 4, 0, 0, 0, time.UTC)
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "s.db"), state.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j, err := st.CreateJob(ctx, "primary", "primary", "test:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishJob(ctx, j.ID, state.JobSucceeded, "", 1, 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after time.Duration
		want  failure.Severity
	}{{time.Hour, failure.OK}, {25 * time.Hour, failure.Warning}, {27 * time.Hour, failure.Critical}} {
		r := health.LastSync(ctx, st, "primary", []string{"primary", "backup"}, 24*time.Hour, 26*time.Hour, clock.Add(c.after))
		if r.Status != c.want || r.Value != c.after.String() {
			t.Errorf("last sync %s ago: %s %q, want %s", c.after, r.Status, r.Value, c.want)
		}
	}

	store, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		if err := store.Put(ctx, key, strings.NewReader("{}"), 2); err != nil {
			t.Fatal(err)
		}
	}
	put("bronze/acode/diario/cog_dt_ingestion=2025-08-07/part.parquet")
	if r := health.DestinationUploads(ctx, store, "dst", "bronze", time.Hour, 2*time.Hour, time.Now()); r.Status != failure.Warning || r.Value != "never" {
		t.Errorf("parts without a manifest: %+v", r)
	}
	put("bronze/acode/diario/cog_dt_ingestion=2025-08-07/_acode_manifest.json")
	put("other/acode/diario/cog_dt_ingestion=2025-08-08/_acode_manifest.json")
	if r := health.DestinationUploads(ctx, store, "dst", "bronze", time.Hour, 2*time.Hour, time.Now()); r.Status != failure.OK ||
		!strings.Contains(r.Message, "cog_dt_ingestion=2025-08-07/_acode_manifest.json") {
		t.Errorf("fresh manifest: %+v", r)
	}
	if r := health.DestinationUploads(ctx, store, "dst", "bronze", time.Hour, 2*time.Hour, time.Now().Add(3*time.Hour)); r.Status != failure.Critical {
		t.Errorf("manifest 3 h old: %+v", r)
	}
}
