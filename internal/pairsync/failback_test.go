package pairsync

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
)

func TestRun_PrimaryBackFailsBackAfterTheHysteresisAndReconciles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000})
	e.healthy()
	e.primary.Kill(t)
	rep, err := e.run(Options{HealthFirst: true})
	if err != nil || rep.Last().Connection != backupConn || e.state() != failover.BackupActive {
		t.Fatalf("failover: %+v, %v", rep, err)
	}
	promotedTo := promotedDiario(t, rep)

	e.primary.Restart(t)
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	for i := 1; i <= 3; i++ {
		e.clock.Sleep(e.ctx, 5*time.Minute)
		round, err := e.o.HealthRound(e.ctx)
		ds := round.Decisions
		if err != nil {
			t.Fatal(err)
		}
		if want := failover.BackupActive; i < 3 && ds[0].State != want {
			t.Fatalf("round %d: %s before the hysteresis", i, ds[0].State)
		}
		if i == 3 && (ds[0].State != failover.PrimaryActive || len(ds[0].ReconcileDays) == 0) {
			t.Fatalf("round 3: %+v", ds[0])
		}
	}

	// The next sync reads the primary, replaces the promoted snapshot of
	// the day by the normal commit rules, and runs the reconcile.
	var reconciled []string
	e.o.Reconcile = func(_ context.Context, p failover.Pair, days []string) error {
		reconciled = days
		return nil
	}
	rep, err = e.run(Options{})
	if err != nil || len(rep.Jobs) != 1 || rep.Jobs[0].Source != "primary" {
		t.Fatalf("sync after the failback: %+v, %v", rep.Jobs, err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if !slices.Contains(reconciled, today) || !slices.Equal(rep.Reconciled, reconciled) {
		t.Errorf("reconciled %v (report %v), want today %s", reconciled, rep.Reconciled, today)
	}
	if d := rep.Decision(); len(d.ReconcileDays) != 0 {
		t.Errorf("reconcile still due after it ran: %v", d.ReconcileDays)
	}
	m := e.manifestAt(promotedTo)
	if m.Status != "committed" || m.Source.Role != "primary" {
		t.Errorf("the day's snapshot after the primary's sync: %s from %s", m.Status, m.Source.Role)
	}
	e.checkComplete(promotedTo, e.primary)

	// The next run has nothing left to reconcile.
	reconciled = nil
	if rep, err = e.run(Options{}); err != nil || reconciled != nil || rep.Reconciled != nil {
		t.Errorf("second run reconciled again: %v, %v", reconciled, err)
	}
}

func TestRun_DefaultReconcilePromotesTheBackupDaysThePrimaryLacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000})
	e.healthy()
	pair, _ := e.o.Pair(primaryConn)
	m := e.o.Machine(pair)
	if _, err := m.Failover(e.ctx, "test", "drill"); err != nil {
		t.Fatal(err)
	}
	// Promotion off: the backup's day is not in the primary's layout.
	e.o.Project.Settings.Jobs.PromoteBackup = false
	rep, err := e.run(Options{})
	if err != nil || len(rep.Promotions) != 0 {
		t.Fatalf("backup sync without promotion: %+v, %v", rep.Promotions, err)
	}
	if _, err := m.Failback(e.ctx, "test", "drill over"); err != nil {
		t.Fatal(err)
	}
	// A backup run after the failback is no reason to reconcile: that
	// waits for the primary's own sync.
	rep, err = e.run(Options{Source: SourceBackup})
	if err != nil || len(rep.Reconciled) != 0 {
		t.Fatalf("backup run after the failback: reconciled %v, %v", rep.Reconciled, err)
	}
	e.o.Project.Settings.Jobs.PromoteBackup = true
	// Reconcile alone (no primary commit yet for the day): the backup's
	// snapshots of the day are promoted where the primary has none.
	r := &run{o: e.o, pair: pair, m: m, rep: &Report{}}
	if err := r.reconcile(e.ctx, []string{time.Now().UTC().Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	promoted := 0
	for _, a := range r.rep.Reconcile {
		if a.Primary == "missing" && a.Did == "promoted" {
			promoted++
		}
	}
	if promoted != 3 {
		t.Fatalf("reconcile: %+v", r.rep.Reconcile)
	}
	if d, _ := m.Decide(e.ctx); len(d.ReconcileDays) != 0 {
		t.Errorf("reconcile still due: %v", d.ReconcileDays)
	}
	e.checkComplete(strings.Replace(rep.Jobs[0].Streams[0].Partition, "bronze_acode_backup", "bronze_acode", 1), e.replica)
}

func TestRun_RestartedAcodeResumesTheFailoverState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000})
	e.healthy()
	e.primary.Kill(t)
	// The process dies right after the failover was decided, before any
	// backup job: only the health round ran.
	round, err := e.o.HealthRound(e.ctx)
	ds := round.Decisions
	if err != nil || ds[0].State != failover.BackupActive {
		t.Fatalf("failover: %+v, %v", ds, err)
	}
	e.st.Close()
	e.open() // a new process: new store handle, new machines

	if e.state() != failover.BackupActive {
		t.Fatalf("after the restart: %s", e.state())
	}
	rep, err := e.run(Options{})
	if err != nil || len(rep.Jobs) != 1 || rep.Jobs[0].Connection != backupConn {
		t.Fatalf("first run of the new process: %+v, %v", rep.Jobs, err)
	}
	if got := transitionsTo(rep); len(got) != 0 {
		t.Errorf("the new process switched again: %v", got)
	}
}

func TestWatch_HealthLoopFailsOverWhenThePrimaryDies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 500})
	ctx, cancel := context.WithCancel(context.Background())
	transitions := make(chan failover.Decision, 10)
	e.o.OnDecision = func(_ context.Context, d failover.Decision) {
		if d.Transition != nil {
			transitions <- d
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.o.Watch(ctx, 200*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()
	// Rounds with both servers up measure the replica: the backup is eligible.
	deadline := time.Now().Add(30 * time.Second)
	for {
		fs, err := e.st.FailoverState(e.ctx, primaryConn)
		if err == nil && fs.BackupReplicating != nil && *fs.BackupReplicating {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the health loop did not measure the replica within 30s: %+v, %v", fs, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.primary.Kill(t)
	select {
	case d := <-transitions:
		if d.Transition.To != string(failover.BackupActive) || d.Transition.Class != string(failure.ClassPrimaryDBDown) {
			t.Errorf("transition: %+v", d.Transition)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no failover within 20s of the kill")
	}
	trs, err := e.st.FailoverTransitions(e.ctx, primaryConn, 5)
	if err != nil || len(trs) != 1 || trs[0].To != string(failover.BackupActive) || trs[0].Who != "auto" {
		t.Errorf("recorded transitions: %+v, %v", trs, err)
	}
}
