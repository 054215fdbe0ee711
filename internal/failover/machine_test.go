package failover

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysqldriver"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

var testPair = Pair{Primary: "conn", Backup: "conn_backup", PrimarySource: "src", BackupSource: "src_backup"}

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

type fixture struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	path  string
	store *state.Store
	m     *Machine
	pol   Policy
}

func newFixture(t *testing.T, edit ...func(*Policy)) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clock: &clock{t: time.Date(2025, 8, 7, 2, 0, 0, 0, time.UTC)},
		path: filepath.Join(t.TempDir(), "state.db"), pol: DefaultPolicy()}
	for _, e := range edit {
		e(&f.pol)
	}
	f.open()
	return f
}

// open (re)opens the store and a new machine on it, as a new process would.
func (f *fixture) open() {
	f.t.Helper()
	st, err := state.Open(f.ctx, f.path, state.WithClock(f.clock.Now))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	f.store = st
	f.m = New(st, testPair, f.pol, WithClock(f.clock.Now), WithJitter(func(max time.Duration) time.Duration { return max / 2 }))
}

// observation sets one probe of a health round.
type observation func(*Health)

func (f *fixture) health(obs ...observation) Decision {
	f.t.Helper()
	var h Health
	for _, o := range obs {
		o(&h)
	}
	d, err := f.m.ObserveHealth(f.ctx, h)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) job(conn string, jobErr error) Decision {
	f.t.Helper()
	d, err := f.m.ObserveJob(f.ctx, conn, jobErr)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// source sets the connectivity probe of target, a source of testPair.
func source(target string, p *Probe) observation {
	return func(h *Health) {
		if target == testPair.PrimarySource {
			h.Primary = p
		} else {
			h.Backup = p
		}
	}
}

func up(target string) observation { return source(target, &Probe{Status: failure.OK}) }

func down(target string, err error) observation {
	return source(target, &Probe{Status: failure.Critical, Class: failure.Classify(err),
		Message: "cannot connect and run SELECT 1: " + err.Error()})
}

func replica(io, sqlThread string, lag *int64, status failure.Severity) observation {
	return func(h *Health) {
		h.Replication = &Probe{Status: status, Message: fmt.Sprintf("IO thread %s, SQL thread %s", io, sqlThread),
			Replica: &Replica{Running: io == "Yes" && sqlThread == "Yes", Connecting: io == "Connecting" && sqlThread == "Yes",
				SecondsBehind: lag}}
	}
}

func lag(s int64) *int64 { return &s }

var (
	refused  = &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}
	timedOut = fmt.Errorf("ping: %w", context.DeadlineExceeded)
	healthy  = []observation{up("src"), up("src_backup"), replica("Yes", "Yes", lag(0), failure.OK)}
)

func primaryDown(err error) []observation {
	return []observation{down("src", err), up("src_backup"), replica("Connecting", "Yes", nil, failure.Critical)}
}

func wantDecision(t *testing.T, what string, d Decision, st State, sync string) {
	t.Helper()
	if d.State != st || d.Sync != sync {
		t.Fatalf("%s: decision %s sync %q (%s), want %s sync %q", what, d.State, d.Sync, d.Reason, st, sync)
	}
}

// hasAlert says whether d raised the alert kind with severity sev, its
// key naming the pair and the kind.
func hasAlert(d Decision, kind AlertKind, sev failure.Severity) bool {
	for _, a := range d.Alerts {
		if a.Kind == kind && a.Key == d.Pair+":"+string(kind) && a.Severity == sev {
			return true
		}
	}
	return false
}

func TestMachine_PrimaryDownUsesTheBackupAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	wantDecision(t, "healthy", f.health(healthy...), PrimaryActive, "conn")
	f.clock.Advance(5 * time.Minute)
	d := f.health(primaryDown(refused)...)
	wantDecision(t, "primary refused", d, BackupActive, "conn_backup")
	if d.Transition == nil || d.Transition.Class != string(failure.ClassPrimaryDBDown) || d.Transition.Who != "auto" ||
		!hasAlert(d, "failover", failure.Critical) || d.Role != "backup" {
		t.Errorf("failover decision: %+v", d)
	}
	// A replica reconnecting to the dead primary keeps the lag measured before.
	f.clock.Advance(5 * time.Minute)
	wantDecision(t, "still down", f.health(primaryDown(refused)...), BackupActive, "conn_backup")
}

func TestMachine_AuthenticationFailureOfASyncUsesTheBackupAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	d := f.job("conn", &failure.SourceError{Err: &mysqldriver.MySQLError{Number: 1045, Message: "Access denied"}})
	wantDecision(t, "wrong password", d, BackupActive, "conn_backup")
	if d.Transition.Class != string(failure.ClassAuthenticationFailed) {
		t.Errorf("class = %s", d.Transition.Class)
	}
}

func TestMachine_TimeoutsRetryWithBackoffThenFailOver(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // jitter: half of 60 s
	start := f.clock.Now()
	f.health(healthy...)
	wait := []time.Duration{5*time.Minute + 30*time.Second, 10*time.Minute + 30*time.Second, 20*time.Minute + 30*time.Second}
	for i, w := range wait {
		d := f.job("conn", &failure.SourceError{Err: timedOut})
		wantDecision(t, fmt.Sprintf("failure %d", i+1), d, PrimaryActive, "")
		if d.RetryAt == nil || !d.RetryAt.Equal(f.clock.Now().Add(w)) || !hasAlert(d, "primary_retry", failure.Warning) {
			t.Fatalf("failure %d: retry at %v, want %v (%+v)", i+1, d.RetryAt, f.clock.Now().Add(w), d)
		}
		// A failed check inside the wait is the same outage: no retry used.
		f.clock.Advance(w / 2)
		d = f.health(down("src", timedOut), up("src_backup"), replica("Yes", "Yes", lag(1), failure.OK))
		if d.Sync != "" || d.RetryAt == nil || d.State != PrimaryActive {
			t.Fatalf("inside wait %d: %+v", i+1, d)
		}
		f.clock.Advance(w - w/2)
		wantDecision(t, fmt.Sprintf("retry %d due", i+1), mustDecide(t, f), PrimaryActive, "conn")
	}
	d := f.job("conn", &failure.SourceError{Err: timedOut})
	wantDecision(t, "last retry failed", d, BackupActive, "conn_backup")
	if got := f.clock.Now().Sub(start); got != 36*time.Minute+30*time.Second {
		t.Errorf("failover after %s, want 36m30s (5+10+20 min + jitter)", got)
	}
}

func mustDecide(t *testing.T, f *fixture) Decision {
	t.Helper()
	d, err := f.m.Decide(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMachine_RecoveryDuringBackoffResetsTheRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	f.job("conn", &failure.SourceError{Err: ioReset()})
	f.clock.Advance(6 * time.Minute)
	d := f.health(healthy...)
	wantDecision(t, "primary back", d, PrimaryActive, "conn")
	if !hasAlert(d, "primary_recovered", failure.Info) {
		t.Errorf("no recovery alert: %+v", d.Alerts)
	}
	if st, _, _ := f.m.State(f.ctx, 1); st.Failures != 0 || st.RetryAt != nil {
		t.Errorf("state after recovery: %+v", st)
	}
}

func ioReset() error { return &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET} }

func TestMachine_LaggingOrStoppedBackupIsNeverUsed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	// STOP SLAVE on the backup while the primary is fine: an alert-worthy
	// state, but no reason to fail over (the seed's bug).
	d := f.health(up("src"), up("src_backup"), replica("No", "No", nil, failure.Critical))
	wantDecision(t, "stopped replica, primary fine", d, PrimaryActive, "conn")
	d = f.health(primaryDown(refused)[0], up("src_backup"), replica("No", "No", nil, failure.Critical))
	wantDecision(t, "primary dies, replica stopped", d, PrimaryActive, "")
	if !hasAlert(d, "both_unavailable", failure.Critical) || !strings.Contains(d.Reason, "both unavailable") ||
		!strings.Contains(d.Reason, "IO thread No") {
		t.Errorf("both unavailable decision: %+v", d)
	}
	// A lagging replica reconnecting does not become fresh by itself.
	d = f.health(primaryDown(refused)...)
	wantDecision(t, "replica connecting, verdict was stale", d, PrimaryActive, "")

	g := newFixture(t)
	g.health(up("src"), up("src_backup"), replica("Yes", "Yes", lag(900), failure.Critical))
	d = g.health(primaryDown(refused)...)
	wantDecision(t, "replica 15 min behind", d, PrimaryActive, "")
	if !strings.Contains(d.Reason, "replication_lag critical") {
		t.Errorf("reason: %s", d.Reason)
	}
	// Once the backup is measured healthy again the pending failover happens.
	d = g.health(down("src", refused), up("src_backup"), replica("Yes", "Yes", lag(3), failure.OK))
	wantDecision(t, "backup caught up", d, BackupActive, "conn_backup")

	h := newFixture(t)
	d = h.health(primaryDown(refused)...)
	wantDecision(t, "never measured", d, PrimaryActive, "")
	if !strings.Contains(d.Reason, "never measured") {
		t.Errorf("reason: %s", d.Reason)
	}
	d = h.health(down("src", refused), down("src_backup", refused))
	if !strings.Contains(d.Reason, "backup unreachable") {
		t.Errorf("both down: %s", d.Reason)
	}
}

func TestMachine_SchemaChangeHaltsUntilAPersonDecides(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	d := f.job("conn", &failure.SourceError{Stream: "diario", Err: &mysqldriver.MySQLError{Number: 1054, Message: "Unknown column"}})
	wantDecision(t, "dropped column", d, Halted, "")
	if !hasAlert(d, "halted", failure.Critical) || d.Transition.Class != string(failure.ClassSchemaChange) {
		t.Errorf("halt decision: %+v", d)
	}
	wantDecision(t, "healthy checks do not resume", f.health(healthy...), Halted, "")
	d, err := f.m.Failback(f.ctx, "cli:maria", "column restored")
	if err != nil {
		t.Fatal(err)
	}
	wantDecision(t, "failback by hand", d, PrimaryActive, "conn")
	if d.ReconcileDays != nil {
		t.Errorf("nothing was synced from the backup, yet reconcile days %v", d.ReconcileDays)
	}
}

func TestMachine_UnknownFailuresHaltAfterTheThreshold(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	odd := &failure.SourceError{Err: &mysqldriver.MySQLError{Number: 1205, Message: "Lock wait timeout"}}
	wantDecision(t, "unknown 1", f.job("conn", odd), PrimaryActive, "conn")
	wantDecision(t, "unknown 2", f.job("conn", odd), PrimaryActive, "conn")
	wantDecision(t, "unknown 3", f.job("conn", odd), Halted, "")
}

func TestMachine_DataCorruptionAsksForARestoreFromTheBackup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	d := f.job("conn", fmt.Errorf("validate 2025-08-07: row count 10 != 12: %w", failure.ErrDataCorruption))
	wantDecision(t, "corrupt partition", d, PrimaryActive, "conn")
	if !d.Restore || !hasAlert(d, "restore", failure.Critical) {
		t.Errorf("restore decision: %+v", d)
	}
	_, trs, err := f.m.State(f.ctx, 5)
	if err != nil || len(trs) != 1 || trs[0].Class != string(failure.ClassDataCorruption) || !strings.Contains(trs[0].Reason, "restore") {
		t.Errorf("recorded: %+v, %v", trs, err)
	}
}

func TestMachine_FailuresOutsideTheSourceDoNotCount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	d := f.job("conn", &failure.DestinationError{Err: fmt.Errorf("put: %w", storage.ErrAccessDenied)})
	wantDecision(t, "bucket denied", d, PrimaryActive, "conn")
	if !hasAlert(d, "sync_failed_outside_source", failure.Warning) {
		t.Errorf("alerts: %+v", d.Alerts)
	}
	wantDecision(t, "cancelled", f.job("conn", fmt.Errorf("job: %w", context.Canceled)), PrimaryActive, "conn")
	if st, _, _ := f.m.State(f.ctx, 1); st.Failures != 0 {
		t.Errorf("failures = %d", st.Failures)
	}
	if _, err := f.m.ObserveJob(f.ctx, "other", nil); err == nil {
		t.Error("a job of another connection was accepted")
	}
}

func TestMachine_FailbackAfterHysteresisRecordsTheReconcileDays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	f.clock.Advance(23 * time.Hour) // 2025-08-08 01:00
	wantDecision(t, "failover", f.health(primaryDown(refused)...), BackupActive, "conn_backup")
	f.clock.Advance(24 * time.Hour) // 2025-08-09 01:00
	for i := 0; i < 2; i++ {
		f.clock.Advance(5 * time.Minute)
		wantDecision(t, "healthy, within hysteresis", f.health(healthy...), BackupActive, "conn_backup")
	}
	f.clock.Advance(5 * time.Minute)
	wantDecision(t, "a failure resets the streak", f.health(primaryDown(timedOut)...), BackupActive, "conn_backup")
	var d Decision
	for i := 0; i < 3; i++ {
		f.clock.Advance(5 * time.Minute)
		d = f.health(healthy...)
	}
	wantDecision(t, "3 healthy checks", d, PrimaryActive, "conn")
	if want := []string{"2025-08-08", "2025-08-09"}; fmt.Sprint(d.ReconcileDays) != fmt.Sprint(want) ||
		!hasAlert(d, "failback", failure.Info) || d.Transition.Who != "auto" {
		t.Errorf("failback: days %v, %+v", d.ReconcileDays, d)
	}
	d, err := f.m.ReconcileDone(f.ctx)
	if err != nil || d.ReconcileDays != nil {
		t.Errorf("after ReconcileDone: %v, %v", d.ReconcileDays, err)
	}
}

func TestMachine_ManualSwitchesRecordWhoAndWhyAndAreNotUndone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	d, err := f.m.Failover(f.ctx, "cli:maria", "primary maintenance 02:00-04:00")
	if err != nil {
		t.Fatal(err)
	}
	wantDecision(t, "manual failover", d, BackupActive, "conn_backup")
	for i := 0; i < 5; i++ {
		f.clock.Advance(5 * time.Minute)
		wantDecision(t, "healthy primary, manual failover", f.health(healthy...), BackupActive, "conn_backup")
	}
	// A person's failover uses the backup even when it cannot be vouched for.
	d = f.health(up("src"), up("src_backup"), replica("No", "Yes", nil, failure.Critical))
	wantDecision(t, "forced backup", d, BackupActive, "conn_backup")
	if !hasAlert(d, "backup_forced", failure.Warning) {
		t.Errorf("alerts: %+v", d.Alerts)
	}
	if _, err := f.m.Failback(f.ctx, "cli:maria", "maintenance over"); err != nil {
		t.Fatal(err)
	}
	st, trs, err := f.m.State(f.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != string(PrimaryActive) || st.Who != "cli:maria" || st.Reason != "maintenance over" || st.ReconcileFrom == nil {
		t.Errorf("state: %+v", st)
	}
	if len(trs) != 2 || trs[0].To != string(PrimaryActive) || trs[1].To != string(BackupActive) ||
		trs[1].Who != "cli:maria" || trs[1].Reason != "primary maintenance 02:00-04:00" {
		t.Errorf("transitions (newest first): %+v", trs)
	}
}

func TestMachine_AutomaticOffOnlyAlerts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(p *Policy) { p.Automatic = false })
	f.health(healthy...)
	d := f.health(primaryDown(refused)...)
	wantDecision(t, "automatic off", d, PrimaryActive, "conn")
	if !hasAlert(d, "primary_failing", failure.Critical) {
		t.Errorf("alerts: %+v", d.Alerts)
	}
}

func TestMachine_ANewProcessResumesMidBackoff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	first := f.job("conn", &failure.SourceError{Err: timedOut})
	f.clock.Advance(first.RetryAt.Sub(f.clock.Now()))
	f.job("conn", &failure.SourceError{Err: timedOut}) // retry 1 failed: wait 10m30s
	f.store.Close()

	f.open() // acode killed and started again
	d := mustDecide(t, f)
	if d.Sync != "" || d.RetryAt == nil || !d.RetryAt.Equal(f.clock.Now().Add(10*time.Minute+30*time.Second)) {
		t.Fatalf("after restart: %+v", d)
	}
	f.clock.Advance(10*time.Minute + 30*time.Second)
	f.job("conn", &failure.SourceError{Err: timedOut})
	f.clock.Advance(20*time.Minute + 30*time.Second)
	wantDecision(t, "resumed schedule ends in failover", f.job("conn", &failure.SourceError{Err: timedOut}), BackupActive, "conn_backup")

	// And in backup_active, a restart keeps the backup.
	f.store.Close()
	f.open()
	wantDecision(t, "restart in backup_active", mustDecide(t, f), BackupActive, "conn_backup")
}
