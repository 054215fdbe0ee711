package pairsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/syncer"
)

// futureDatesAreErrors makes a future date in diario fail its quality gate.
const futureDatesAreErrors = `quality:
  tables:
    farmarcas_si_analitico_diario:
      future_dates:
        columns: [Data]
        severity: error
`

// receiver is a local webhook endpoint: the alerts it was sent.
type receiver struct {
	mu     sync.Mutex
	alerts []alert.Alert
}

func (rc *receiver) sent(kind string) []alert.Alert {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []alert.Alert
	for _, a := range rc.alerts {
		if strings.HasSuffix(a.Condition, "/"+kind) && a.Event == alert.EventRaised {
			out = append(out, a)
		}
	}
	return out
}

// withAlerts sends every decision of the orchestrator through an alert
// manager to a webhook on a local server, as `acode serve` does.
func (e *env) withAlerts() *receiver {
	e.t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a alert.Alert
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &a); err == nil {
			rc.mu.Lock()
			rc.alerts = append(rc.alerts, a)
			rc.mu.Unlock()
		}
	}))
	e.t.Cleanup(srv.Close)
	hook, err := alert.NewWebhook(srv.URL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	mgr, err := alert.New(e.ctx, alert.Config{Store: e.st, Chat: []alert.Sink{hook}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.o.OnDecision = func(ctx context.Context, d failover.Decision) {
		if err := mgr.Failover(ctx, d); err != nil {
			e.t.Errorf("alert: %v", err)
		}
	}
	return rc
}

// plantOnPrimary gives one diario row a future date on the primary only:
// the change is kept out of the binlog, so the replica keeps the row as it
// was.
func (e *env) plantOnPrimary() {
	e.t.Helper()
	conn, err := e.primary.Root(e.t).Conn(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"SET SESSION sql_log_bin = 0",
		fmt.Sprintf("UPDATE %s.%s SET Data = '2099-01-01' ORDER BY idpk LIMIT 1", e.database, diario)} {
		if _, err := conn.ExecContext(e.ctx, q); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) withSettings(extra string) {
	e.t.Helper()
	e.writeSettings("", "0")
	f, err := os.OpenFile(filepath.Join(e.project.Dir, config.SettingsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(extra); err != nil {
		e.t.Fatal(err)
	}
}

// A row that fails a quality error rule on the primary only: the primary's
// day is quarantined, synced from the backup, promoted, validated, and the
// outcome alerted; DuckDB reads the backup's rows in the primary's
// partition.
func TestRun_DataCorruptionOnThePrimaryIsRestoredFromTheBackup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.withSettings(futureDatesAreErrors)
	e.open()
	rc := e.withAlerts()
	e.healthy()
	e.plantOnPrimary()

	rep, err := e.run(Options{})
	if err != nil {
		t.Fatalf("run: %v (transitions %v)", err, transitionsTo(rep))
	}
	if len(rep.Jobs) != 2 || rep.Jobs[0].Connection != primaryConn || rep.Jobs[0].Status != "failed" || rep.Jobs[1].Connection != backupConn {
		t.Fatalf("jobs: want the primary's failed job then the backup's, got %+v", rep.Jobs)
	}
	if len(rep.Restored) != 1 || rep.Restored[0].Stream != diario {
		t.Fatalf("restored %+v, want %s alone", rep.Restored, diario)
	}
	part := rep.Restored[0].Partition
	var primaryDiario syncer.StreamStatus
	for _, s := range rep.Jobs[0].Streams {
		if s.Name == diario {
			primaryDiario = s.Status
		}
	}
	if primaryDiario != syncer.StreamQuarantined {
		t.Errorf("the primary's %s is %s, want quarantined", diario, primaryDiario)
	}
	store, err := connect.Store(e.ctx, e.o.Project.Connections[primaryConn].Destination)
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.ReadManifest(e.ctx, store, part+"/"+"_acode_manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "promoted" || m.Source.Role != "backup" || m.JobID != rep.Jobs[1].JobID {
		t.Errorf("the primary's partition holds %s from %s job %d, want promoted from backup job %d", m.Status, m.Source.Role, m.JobID, rep.Jobs[1].JobID)
	}
	e.checkComplete(part, e.replica) // every row as the backup has it, the planted one as it was
	if q := e.s3.ObjectPath(e.project.Bucket, "origin=airbyte/database=bronze_acode/_quarantine/"+diario); !exists(q) {
		t.Errorf("the primary's corrupt rows are not kept under %s", q)
	}
	if got := rc.sent("restored"); len(got) != 1 || got[0].Severity != failure.Warning || !strings.Contains(got[0].Message, part) {
		t.Errorf("restored alerts: %+v", got)
	}
	if e.state() != failover.PrimaryActive {
		t.Errorf("state %s after the restore, want primary_active", e.state())
	}
}

// When the backup is not usable (its replication stopped), nothing is
// restored: the pair halts with a critical alert.
func TestRun_DataCorruptionWithAnUnusableBackupHalts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.withSettings(futureDatesAreErrors)
	e.open()
	rc := e.withAlerts()
	e.replica.Exec(t, "STOP SLAVE")
	if _, err := e.o.HealthRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.plantOnPrimary()

	rep, err := e.run(Options{})
	var re *RestoreError
	if !errors.As(err, &re) || len(re.Streams) != 1 || re.Streams[0] != diario {
		t.Fatalf("want a RestoreError about %s, got %v", diario, err)
	}
	if len(rep.Jobs) != 1 {
		t.Errorf("%d jobs ran, want only the primary's", len(rep.Jobs))
	}
	if e.state() != failover.Halted {
		t.Errorf("state %s, want halted", e.state())
	}
	if got := rc.sent("halted"); len(got) != 1 || got[0].Severity != failure.Critical {
		t.Errorf("halted alerts: %+v", got)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// A committed file of the primary corrupted on the server (its bytes no
// longer match the manifest's SHA-256): the day fails validation, the
// corrupt snapshot is copied under _quarantine/, the day is synced from
// the backup, promoted and validated, and the outcome alerted.
func TestRestoreDay_ACorruptedCommittedFileIsRestoredFromTheBackup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.open()
	rc := e.withAlerts()
	e.healthy()
	first, err := e.run(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var part string
	var files []string
	for _, s := range first.Last().Streams {
		if s.Name == diario {
			part, files = s.Partition, s.Files
		}
	}
	path := e.s3.ObjectPath(e.project.Bucket, files[0])
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) / 3; i < len(data)/3+64; i++ {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	primary := e.o.Project.Connections[primaryConn]
	day := first.Last().StartedAt
	res, err := validate.Day(e.ctx, e.o.Project, primary, day, e.st, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var broken []string
	var problems []string
	for _, c := range res.Partitions {
		if !c.Valid() {
			broken = append(broken, c.Stream)
			problems = append(problems, c.Problems...)
		}
	}
	if len(broken) != 1 || broken[0] != diario {
		t.Fatalf("validate finds %v broken, want %s alone", broken, diario)
	}
	rep, err := e.o.RestoreDay(e.ctx, primaryConn, day, broken, errors.New(strings.Join(problems, "; ")))
	if err != nil {
		t.Fatalf("restore: %v (transitions %v)", err, transitionsTo(rep))
	}
	if len(rep.Restored) != 1 || rep.Restored[0].Partition != part || len(rep.Jobs) != 1 || rep.Jobs[0].Connection != backupConn {
		t.Fatalf("restored %+v by jobs %+v, want %s from one backup job", rep.Restored, rep.Jobs, part)
	}
	e.checkComplete(part, e.replica)
	after, err := validate.Day(e.ctx, e.o.Project, primary, day, e.st, validate.Options{Deep: true})
	if err != nil || !after.Passed {
		t.Errorf("the restored day does not validate (%v): %+v", err, after)
	}
	kept := e.s3.ObjectPath(e.project.Bucket, snapshot.QuarantinePrefix(primary.Destination.BucketPath, diario,
		day.UTC().Format("2006-01-02"), first.Last().JobID)+"/"+filepath.Base(files[0]))
	if got, err := os.ReadFile(kept); err != nil || string(got) != string(data) {
		t.Errorf("the corrupt file is not kept under _quarantine/ (%v)", err)
	}
	if got := rc.sent("restored"); len(got) != 1 || !strings.Contains(got[0].Message, part) {
		t.Errorf("restored alerts: %+v", got)
	}
}
