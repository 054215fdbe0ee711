package pairsync

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/drift"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
)

func TestRun_SlowPrimaryIsRetriedWithBackoffThenTheJobFailsOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000, viaProxy: true})
	e.writeSettings("", "3") // 4 attempts: the 3 backoff retries of the seed's policy
	e.open()
	e.healthy()

	// Every round trip takes longer than the 2 s connect timeout.
	e.proxy.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 3000})
	rep, err := e.run(Options{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(rep.Jobs) != 2 || rep.Jobs[0].Attempts != 4 || rep.Jobs[0].Status != "failed" || rep.Jobs[1].Connection != backupConn {
		t.Fatalf("jobs: %+v", rep.Jobs)
	}
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute}
	if got := e.clock.Waits(); !slices.Equal(got, want) {
		t.Errorf("waits before the retries = %v, want the seed's backoff %v", got, want)
	}
	if got := transitionsTo(rep); !slices.Equal(got, []string{"backup_active(connection_timeout)"}) {
		t.Errorf("transitions: %v", got)
	}
	attempts, err := e.st.Attempts(e.ctx, rep.Jobs[0].JobID)
	if err != nil || len(attempts) != 4 {
		t.Fatalf("attempts of the primary's job: %+v, %v", attempts, err)
	}
	e.checkComplete(promotedDiario(t, rep), e.replica)
}

func TestRun_ResetConnectionsAreRetriedThenTheBackupIsUsed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000, viaProxy: true})
	e.healthy()
	// Every connection through the proxy is reset: the server itself is up
	// (the probe would see it through the proxy, reset too).
	e.proxy.AddToxic(t, "reset", "reset_peer", "downstream", map[string]any{"timeout": 0})

	// retries: 1 gives two attempts; the run ends waiting for the next
	// backoff, without touching the backup.
	rep, err := e.run(Options{})
	if err == nil || len(rep.Jobs) != 1 || rep.Jobs[0].Attempts != 2 {
		t.Fatalf("first run: %+v, %v", rep.Jobs, err)
	}
	d := rep.Decision()
	if d.State != failover.PrimaryActive || d.RetryAt == nil {
		t.Fatalf("after two failures: %+v", d)
	}
	if c := failure.Classify(errors.Unwrap(err)); c != failure.ClassNetworkPartition && failure.Classify(err) != failure.ClassNetworkPartition {
		t.Errorf("class of a reset: %s (%v)", failure.Classify(err), err)
	}
	// Before the backoff ends, a run syncs nothing and says when.
	var nse *NotSyncedError
	if _, err := e.run(Options{}); !errors.As(err, &nse) || nse.Decision.RetryAt == nil {
		t.Fatalf("inside the backoff: %v", err)
	}
	// The next run after the backoff exhausts the retries and fails over.
	e.clock.Sleep(e.ctx, d.RetryAt.Sub(e.clock.Now()))
	rep, err = e.run(Options{})
	if err != nil || rep.Last().Connection != backupConn {
		t.Fatalf("after the backoff: %+v, %v", rep.Jobs, err)
	}
	if got := transitionsTo(rep); !slices.Equal(got, []string{"backup_active(network_partition)"}) {
		t.Errorf("transitions: %v", got)
	}
}

func TestRun_StoppedReplicaAndDeadPrimaryMeanBothUnavailableAndNoSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000})
	e.healthy()
	e.replica.Exec(t, "STOP SLAVE")
	e.primary.Exec(t, "INSERT INTO "+e.database+"."+diario+" (ACODE_Val_Total, Data) VALUES (1.00, UTC_DATE()), (2.00, UTC_DATE())")
	e.healthy() // the stopped replica is measured while the primary is up
	e.primary.Kill(t)

	rep, err := e.run(Options{HealthFirst: true})
	var nse *NotSyncedError
	if !errors.As(err, &nse) || !strings.Contains(nse.Decision.Reason, "both unavailable") {
		t.Fatalf("run: %v", err)
	}
	for _, j := range rep.Jobs {
		if j.Connection == backupConn {
			t.Errorf("the stale backup was synced: job %d", j.JobID)
		}
	}
	found := false
	for _, d := range rep.Decisions {
		for _, a := range d.Alerts {
			if strings.HasSuffix(a.Key, ":both_unavailable") && a.Severity == failure.Critical {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no critical both_unavailable alert: %+v", rep.Decisions)
	}
	jobs, err := e.st.ListJobs(e.ctx, state.JobFilter{Connection: backupConn})
	if err != nil || len(jobs) != 0 {
		t.Errorf("backup jobs: %+v, %v", jobs, err)
	}
	if e.state() != failover.PrimaryActive {
		t.Errorf("state %s", e.state())
	}
}

func TestRun_DroppedColumnIsASchemaChange_NoSyncNoFailover(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000})
	e.healthy()
	if _, err := e.run(Options{}); err != nil {
		t.Fatal(err)
	}
	e.primary.Exec(t, "ALTER TABLE "+e.database+"."+diario+" DROP COLUMN Val_Trib")
	e.replica.WaitReplicaCaughtUp(t, e.primary)

	rep, err := e.run(Options{})
	var de *drift.Error
	if !errors.As(err, &de) || !errors.Is(err, failure.ErrSchemaChange) || !slices.Contains(de.Breaking(), drift.Change{Kind: drift.Dropped, Column: "Val_Trib"}) {
		t.Fatalf("run after the drop: %v", err)
	}
	if len(rep.Jobs) != 0 {
		t.Errorf("jobs ran: %+v", rep.Jobs)
	}
	if got := transitionsTo(rep); !slices.Equal(got, []string{"halted(schema_change)"}) {
		t.Errorf("transitions: %v", got)
	}
	// Nothing is synced from either side until a person decides.
	var nse *NotSyncedError
	if _, err := e.run(Options{}); !errors.As(err, &nse) || nse.Decision.State != failover.Halted {
		t.Errorf("second run: %v", err)
	}
	if _, err := e.run(Options{Source: SourceAuto, HealthFirst: true}); !errors.As(err, &nse) {
		t.Errorf("with a health round: %v", err)
	}
	jobs, _ := e.st.ListJobs(e.ctx, state.JobFilter{Connection: backupConn})
	if len(jobs) != 0 {
		t.Errorf("backup jobs: %+v", jobs)
	}
}

// An added column is not drift: files with one more column do not break
// readers (older partitions read it as NULL), so the pair syncs on from
// the primary and the new snapshot carries the column. `acode check` says
// the same (cmd/acode's TestCLI_CheckReportsConnectivityAndDrift).
func TestRun_AddedColumnSyncsOnWithoutHaltOrFailover(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000})
	e.healthy()
	if _, err := e.run(Options{}); err != nil {
		t.Fatal(err)
	}
	e.primary.Exec(t, "ALTER TABLE "+e.database+"."+diario+" ADD COLUMN Acode_Added INT NULL")
	e.replica.WaitReplicaCaughtUp(t, e.primary)

	rep, err := e.run(Options{})
	if err != nil {
		t.Fatalf("run after the added column: %v", err)
	}
	if len(rep.Jobs) != 1 || rep.Jobs[0].Connection != primaryConn || rep.Jobs[0].Status != "succeeded" {
		t.Fatalf("jobs: %+v", rep.Jobs)
	}
	if got := transitionsTo(rep); len(got) != 0 {
		t.Errorf("transitions: %v", got)
	}
	var partition string
	for _, s := range rep.Jobs[0].Streams {
		if s.Name == diario {
			partition = s.Partition
		}
	}
	m := e.manifestAt(partition)
	if !slices.ContainsFunc(m.Schema.Columns, func(c snapshot.Column) bool { return c.Name == "Acode_Added" }) {
		t.Errorf("the new snapshot lacks the added column: %+v", m.Schema.Columns)
	}
}

func TestRun_JobLongerThanMaxDurationIsCancelledAndCountsAsFailedWithoutFailover(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 3000})
	e.writeSettings("  max_rows_per_second: 300", "0\n  max_duration: 2s")
	e.open()
	e.healthy()
	start := time.Now()
	rep, err := e.run(Options{})
	if !errors.Is(err, failure.ErrMaxDuration) {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the 2 s job ran %s", took)
	}
	if len(rep.Jobs) != 1 || rep.Jobs[0].Status != "failed" || !strings.Contains(rep.Jobs[0].Error, "maximum duration") {
		t.Fatalf("job: %+v", rep.Jobs[0])
	}
	j, err := e.st.Job(e.ctx, rep.Jobs[0].JobID)
	if err != nil || j.Status != state.JobFailed {
		t.Errorf("stored job: %+v, %v", j, err)
	}
	d := rep.Decision()
	if d.State != failover.PrimaryActive || d.Sync != primaryConn || !slices.ContainsFunc(d.Alerts, func(a failover.Alert) bool {
		return strings.HasSuffix(a.Key, ":max_duration") && a.Severity == failure.Critical
	}) {
		t.Errorf("decision after the overrun: %+v", d)
	}
	fs, _, err := e.o.Machine(failover.Pair{Primary: primaryConn}).State(e.ctx, 1)
	if err != nil || fs.Failures != 0 {
		t.Errorf("a slow job counted as a failure of the primary: %+v, %v", fs, err)
	}
}
