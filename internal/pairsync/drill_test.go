package pairsync

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/testenv"
)

// drill is the example project on a real primary (optionally behind
// toxiproxy) and its binlog replica, with the real health checks feeding a
// machine whose clock the test moves.
type drill struct {
	t       *testing.T
	ctx     context.Context
	primary *testenv.MariaDB
	replica *testenv.MariaDB
	proxy   *testenv.ToxiProxy
	checker *health.Checker
	pair    failover.Pair
	m       *failover.Machine
	clock   *clock
}

func newDrill(t *testing.T, viaProxy bool) *drill {
	t.Helper()
	d := &drill{t: t, ctx: context.Background(), clock: &clock{t: time.Date(2025, 8, 7, 2, 0, 0, 0, time.UTC)}}
	d.primary = testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	d.replica = testenv.StartReplica(t, d.primary)
	db := "acode_" + strconv.Itoa(d.primary.Port)
	d.primary.Exec(t, "CREATE DATABASE "+db,
		"CREATE TABLE "+db+".farmarcas_si_analitico_diario (idpk INT PRIMARY KEY, Data_Processamento DATE)",
		"INSERT INTO "+db+".farmarcas_si_analitico_diario VALUES (1, UTC_DATE())")
	p := testenv.NewProject(t, d.primary, db, nil)
	d.primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	p.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", "port: 3306", "port: "+strconv.Itoa(d.replica.Port))
	if viaProxy {
		d.proxy = testenv.StartToxiproxy(t).Proxy(t, "primary", d.primary.Addr())
		p.Edit(t, "sources/source_mysql_acode/configuration.yaml",
			"port: "+strconv.Itoa(d.primary.Port), "port: "+strconv.Itoa(d.proxy.Port))
	}
	settings := "state_db: .acode/state.db\nhealth:\n  connect_timeout: 1s\n  query_timeout: 5s\nfailover:\n  backoff_jitter: 0\n"
	if err := os.WriteFile(filepath.Join(p.Dir, config.SettingsFile), []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	d.replica.WaitReplicaCaughtUp(t, d.primary)
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(d.ctx, proj.Settings.StateDB, state.WithClock(d.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bucket := t.TempDir()
	d.checker = &health.Checker{Project: proj, State: st, Now: d.clock.Now,
		OpenStore: func(_ context.Context, dst *config.Destination) (storage.Store, error) {
			return file.New(filepath.Join(bucket, dst.ResourceName))
		}}
	pairs, err := failover.PairsFrom(proj)
	if err != nil || len(pairs) != 1 {
		t.Fatalf("pairs = %+v, %v", pairs, err)
	}
	d.pair = pairs[0]
	d.m = failover.New(st, pairs[0], failover.PolicyFrom(proj.Settings.Failover), failover.WithClock(d.clock.Now))
	return d
}

// advance moves the drill's clock.
func (d *drill) advance(by time.Duration) { _ = d.clock.Sleep(d.ctx, by) }

func wantDecision(t *testing.T, what string, d failover.Decision, st failover.State, sync string) {
	t.Helper()
	if d.State != st || d.Sync != sync {
		t.Fatalf("%s: decision %s sync %q (%s), want %s sync %q", what, d.State, d.Sync, d.Reason, st, sync)
	}
}

func hasAlert(d failover.Decision, kind string, sev failure.Severity) bool {
	for _, a := range d.Alerts {
		if strings.HasSuffix(a.Key, ":"+kind) && a.Severity == sev {
			return true
		}
	}
	return false
}

// round runs every health check and feeds the machine, as one tick of the
// serve loop.
func (d *drill) round() (failover.Decision, []health.Result) {
	d.t.Helper()
	results, err := d.checker.Run(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	dec, err := d.m.ObserveHealth(d.ctx, PairHealth(d.pair, results))
	if err != nil {
		d.t.Fatal(err)
	}
	return dec, results
}

func TestDrill_LatencyBeyondTheTimeoutRetriesWithBackoffThenFailsOver(t *testing.T) {
	t.Parallel()
	d := newDrill(t, true)
	dec, _ := d.round()
	wantDecision(t, "healthy", dec, failover.PrimaryActive, "connection_mysql_s3_acode")

	d.proxy.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 3000})
	start := d.clock.Now()
	var waits []time.Duration
	for i := 0; i < 6 && dec.State == failover.PrimaryActive; i++ {
		var results []health.Result
		dec, results = d.round()
		if i == 0 {
			for _, r := range results {
				if r.Check == health.CheckConnectivity && r.Target == "source_mysql_acode" && failure.Classify(r.Err) != failure.ClassConnectionTimeout {
					t.Fatalf("slow primary: class %s (%v)", failure.Classify(r.Err), r.Err)
				}
			}
		}
		if dec.RetryAt != nil {
			waits = append(waits, dec.RetryAt.Sub(d.clock.Now()))
			d.advance(dec.RetryAt.Sub(d.clock.Now()))
		}
	}
	wantDecision(t, "after the retries", dec, failover.BackupActive, "connection_mysql_s3_acode_backup")
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute}
	if len(waits) != 3 || waits[0] != want[0] || waits[1] != want[1] || waits[2] != want[2] {
		t.Errorf("backoff waits = %v, want %v", waits, want)
	}
	if got := d.clock.Now().Sub(start); got != 35*time.Minute {
		t.Errorf("failover after %s of (fake) time, want 35m", got)
	}
	if dec.Transition == nil || dec.Transition.Class != string(failure.ClassConnectionTimeout) {
		t.Errorf("transition: %+v", dec.Transition)
	}

	// The primary answers again: failback after 3 healthy rounds.
	d.proxy.RemoveToxic(t, "slow")
	for i := 0; i < 3; i++ {
		d.advance(5 * time.Minute)
		dec, _ = d.round()
	}
	wantDecision(t, "failback", dec, failover.PrimaryActive, "connection_mysql_s3_acode")
	if len(dec.ReconcileDays) != 1 || dec.ReconcileDays[0] != "2025-08-07" {
		t.Errorf("reconcile days = %v", dec.ReconcileDays)
	}
}

func TestDrill_StoppedReplicaThenDeadPrimaryMeansBothUnavailable(t *testing.T) {
	t.Parallel()
	d := newDrill(t, false)
	dec, _ := d.round()
	wantDecision(t, "healthy", dec, failover.PrimaryActive, "connection_mysql_s3_acode")

	d.replica.Exec(t, "STOP SLAVE")
	db := "acode_" + strconv.Itoa(d.primary.Port)
	d.primary.Exec(t, "INSERT INTO "+db+".farmarcas_si_analitico_diario VALUES (2, UTC_DATE()), (3, UTC_DATE())")
	d.advance(5 * time.Minute)
	dec, results := d.round()
	wantDecision(t, "replica stopped, primary fine", dec, failover.PrimaryActive, "connection_mysql_s3_acode")
	for _, r := range results {
		if r.Check == health.CheckReplicationLag && (r.Status != failure.Critical || !strings.Contains(r.Message, "IO thread No, SQL thread No")) {
			t.Errorf("replication_lag of a stopped replica: %+v", r)
		}
	}

	d.primary.Kill(t)
	d.advance(5 * time.Minute)
	dec, results = d.round()
	wantDecision(t, "primary dead, replica stale", dec, failover.PrimaryActive, "")
	if !hasAlert(dec, "both_unavailable", failure.Critical) || !strings.Contains(dec.Reason, "both unavailable") {
		t.Errorf("decision: %+v", dec)
	}
	// A sync attempt of the primary fails for real and changes nothing.
	if results[0].Check != health.CheckConnectivity || results[0].Err == nil {
		t.Fatalf("first result of the dead primary's round: %+v", results[0])
	}
	err := &failure.SourceError{Err: results[0].Err}
	if dec, err := d.m.ObserveJob(d.ctx, "connection_mysql_s3_acode", err); err != nil || dec.Sync != "" {
		t.Errorf("after a failed sync: %+v, %v", dec, err)
	}
}
