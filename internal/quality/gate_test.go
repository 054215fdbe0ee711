package quality_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	local       = "connection_mysql_local_acode"
	diario      = demo.TableDiario
	produtos    = demo.TableProdutos
	complemento = demo.TableComplemento
)

// env is a test project on the shared MariaDB, syncing to the local
// destination.
type env struct {
	*testenv.Project
	db *testenv.MariaDB
}

func newEnv(t *testing.T, rows int) *env { return newEnvB(t, rows) }

func newEnvB(t testing.TB, rows int) *env {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	demotest.Fill(t, m, database, demo.Options{Rows: rows, Seed: 11, Days: 3, Now: time.Now()})
	return &env{Project: testenv.NewProject(t, m, database, nil), db: m}
}

func (e *env) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for i, s := range stmts {
		stmts[i] = fmt.Sprintf(s, "`"+e.Database+"`")
	}
	e.db.Exec(t, stmts...)
}

func (e *env) project(t testing.TB) *config.Project {
	t.Helper()
	p, err := config.Load(e.Dir, e.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) sync(t *testing.T) (*syncer.Result, error) { return e.syncB(t) }

func (e *env) syncB(t testing.TB) (*syncer.Result, error) {
	t.Helper()
	p := e.project(t)
	st, err := state.Open(context.Background(), p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return (&syncer.Syncer{Project: p, State: st, Log: log}).Run(context.Background(), local, syncer.Options{})
}

func (e *env) manifest(t *testing.T, key string) *snapshot.Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.LocalRoot(), key))
	if err != nil {
		t.Fatal(err)
	}
	var m snapshot.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func (e *env) report(t *testing.T, jobID int64, stream string) quality.StreamReport {
	t.Helper()
	st, err := state.Open(context.Background(), e.project(t).Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	qr, err := st.QualityReport(context.Background(), jobID, stream)
	if err != nil {
		t.Fatal(err)
	}
	var rep quality.StreamReport
	if err := json.Unmarshal(qr.Report, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func result(t *testing.T, rep quality.StreamReport, rule string) quality.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Rule == rule {
			return r
		}
	}
	t.Fatalf("%s: no rule %s in %+v", rep.Stream, rule, rep.Results)
	return quality.Result{}
}

func streamResult(res *syncer.Result, name string) syncer.StreamResult {
	for _, s := range res.Streams {
		if s.Name == name {
			return s
		}
	}
	return syncer.StreamResult{}
}

// TestGate_PlantedDefectsQuarantineAndKeepThePreviousSnapshot syncs clean
// demo data (every rule passes), plants the seed's defects, syncs again:
// error rules quarantine their streams, warnings are reported, and the
// partitions keep the first job's snapshot.
func TestGate_PlantedDefectsQuarantineAndKeepThePreviousSnapshot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3000)
	// complemento loses its PK constraint: the catalog's idpk is then
	// checked for duplicates from the statistics.
	e.exec(t, "ALTER TABLE %[1]s."+complemento+" MODIFY idpk BIGINT NOT NULL, DROP PRIMARY KEY")

	first, err := e.sync(t)
	if err != nil {
		t.Fatalf("clean sync: %v", err)
	}
	for _, s := range first.Streams {
		rep := e.report(t, first.JobID, s.Name)
		if s.Status != "committed" || len(rep.Errors()) > 0 {
			t.Fatalf("clean %s: %s, errors %+v", s.Name, s.Status, rep.Errors())
		}
	}
	clean := e.report(t, first.JobID, diario)
	for _, rule := range []string{"completeness", "null_tolerance.CNPJ", "null_tolerance.EAN", "outliers.negative_values",
		"reference.EAN", "future_dates", "required_column.NF_Numero", "data_type.Data"} {
		if r := result(t, clean, rule); !r.Passed {
			t.Errorf("clean data: %s failed: %+v", rule, r)
		}
	}
	if r := result(t, e.report(t, first.JobID, complemento), "unique_key.idpk"); !r.Passed {
		t.Errorf("clean complemento: %+v", r)
	}
	firstManifest := e.manifest(t, streamResult(first, diario).Manifest)
	if firstManifest.Stats == nil || firstManifest.Stats.Rows != 3000 || firstManifest.Quality == nil {
		t.Fatalf("manifest lacks statistics: %+v", firstManifest.Stats)
	}

	e.exec(t,
		"UPDATE %[1]s."+diario+" SET CNPJ = NULL WHERE idpk %% 10 = 0",                        // 10% > 5% tolerance: error
		"UPDATE %[1]s."+diario+" SET ACODE_Val_Total = -ACODE_Val_Total WHERE idpk IN (5, 6)", // negatives: warning
		"UPDATE %[1]s."+diario+" SET EAN = '0000000000017' WHERE idpk IN (7, 8, 9)",           // not in produtos: warning
		"UPDATE %[1]s."+diario+" SET Data = DATE_ADD(CURDATE(), INTERVAL 3 DAY) WHERE idpk = 11",
		"INSERT INTO %[1]s."+complemento+" SELECT * FROM %[1]s."+complemento+" WHERE idpk = 1", // duplicate key
	)
	second, err := e.sync(t)
	var failed *quality.FailedError
	if !errors.Is(err, quality.ErrValidationFailed) || !errors.As(err, &failed) {
		t.Fatalf("sync with defects: %v, want a quality.FailedError", err)
	}
	if second.Attempts != 1 {
		t.Errorf("a quality failure was retried %d times; the data would not change", second.Attempts-1)
	}
	if s := streamResult(second, produtos); s.Status != "committed" {
		t.Errorf("produtos has no defect but is %s: a quarantined stream must not stop the others", s.Status)
	}
	rep := e.report(t, second.JobID, diario)
	if r := result(t, rep, "null_tolerance.CNPJ"); r.Passed || r.Severity != "error" {
		t.Errorf("null tolerance: %+v", r)
	}
	for rule, want := range map[string]string{"outliers.negative_values": "2 rows", "future_dates": "1 rows",
		"reference.EAN": "1 of "} {
		r := result(t, rep, rule)
		if r.Passed || r.Severity != "warning" || !contains(r.Measured, want) {
			t.Errorf("%s: %+v, want a failing warning measuring %q", rule, r, want)
		}
	}
	if r := result(t, rep, "null_tolerance.EAN"); !r.Passed {
		t.Errorf("EAN nulls did not change: %+v", r)
	}
	if rep.Results[0].Rule != "null_tolerance.CNPJ" {
		t.Errorf("failing error rules come first, got %s", rep.Results[0].Rule)
	}
	if r := result(t, e.report(t, second.JobID, complemento), "unique_key.idpk"); r.Passed || r.Measured != "1 duplicate rows" {
		t.Errorf("duplicate key: %+v", r)
	}

	for _, name := range []string{diario, complemento} {
		s := streamResult(second, name)
		if s.Status != snapshot.StatusQuarantined {
			t.Errorf("%s: %s, want quarantined", name, s.Status)
			continue
		}
		prefix := snapshot.QuarantinePrefix("origin=airbyte/database=bronze_acode", name, second.StartedAt.UTC().Format("2006-01-02"), second.JobID)
		qm := e.manifest(t, snapshot.QuarantineManifestKey(prefix))
		if qm.Status != snapshot.StatusQuarantined || len(qm.Files) == 0 {
			t.Errorf("%s quarantine manifest: %+v", name, qm)
		}
		for _, f := range qm.Files {
			if _, err := os.Stat(filepath.Join(e.LocalRoot(), f.Key)); err != nil {
				t.Errorf("quarantined file: %v", err)
			}
		}
		live := e.manifest(t, filepath.Join(s.Partition, layout.ManifestName))
		if live.JobID != first.JobID {
			t.Errorf("%s: the partition's manifest is job %d, want the previous snapshot (job %d)", name, live.JobID, first.JobID)
		}
		for _, f := range live.Files {
			if _, err := os.Stat(filepath.Join(e.LocalRoot(), f.Key)); err != nil {
				t.Errorf("%s: previous snapshot file gone: %v", name, err)
			}
		}
		parts, _ := filepath.Glob(filepath.Join(e.LocalRoot(), s.Partition, "*.parquet"))
		if len(parts) != len(live.Files) {
			t.Errorf("%s: partition holds %d files, the previous manifest lists %d", name, len(parts), len(live.Files))
		}
	}
	st, err := state.Open(context.Background(), e.project(t).Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Commit(context.Background(), local, diario, streamResult(second, diario).Partition)
	if err != nil || c.Status != state.CommitQuarantined || c.JobID != second.JobID {
		t.Errorf("state commit: %+v %v, want quarantined by job %d", c, err, second.JobID)
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}
