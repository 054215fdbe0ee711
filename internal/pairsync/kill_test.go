package pairsync

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/syncer"
)

// promotedDiario returns the promotion of the diario stream.
func promotedDiario(t *testing.T, rep *Report) string {
	t.Helper()
	for _, p := range rep.Promotions {
		if p.Stream == diario && p.Skipped == "" {
			return p.To
		}
	}
	t.Fatalf("no promotion of %s: %+v", diario, rep.Promotions)
	return ""
}

func (e *env) manifestAt(partition string) *snapshot.Manifest {
	e.t.Helper()
	data, err := os.ReadFile(e.partitionDir(partition) + "/_acode_manifest.json")
	if err != nil {
		e.t.Fatal(err)
	}
	var m snapshot.Manifest
	if err := jsonUnmarshal(data, &m); err != nil {
		e.t.Fatal(err)
	}
	return &m
}

func TestRun_PrimaryKilledBeforeTheSyncFailsOverInsideTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.healthy()
	first, err := e.run(Options{})
	if err != nil || len(first.Jobs) != 1 || first.Jobs[0].Source != "primary" {
		t.Fatalf("first sync: %+v, %v", first, err)
	}

	e.primary.Kill(t)
	killed := time.Now()
	rep, err := e.run(Options{}) // no health round: the job itself finds the primary dead
	if err != nil {
		t.Fatalf("sync after the kill: %v", err)
	}
	if len(rep.Jobs) != 2 || rep.Jobs[0].Status != "failed" || rep.Jobs[1].Connection != backupConn || rep.Jobs[1].Status != "succeeded" {
		t.Fatalf("jobs: %+v", rep.Jobs)
	}
	if rep.Jobs[0].Attempts != 1 {
		t.Errorf("the dead primary was retried %d times; primary_db_down uses the backup at once", rep.Jobs[0].Attempts-1)
	}
	// The failed primary job says it was continued by the backup's job, so
	// a caller polling the first id follows the run to its outcome.
	if chain, err := e.st.JobChain(e.ctx, rep.Jobs[0].JobID); err != nil || len(chain) != 2 || chain[1].ID != rep.Jobs[1].JobID ||
		chain[0].Status != "failed" || chain[1].Status != "succeeded" {
		t.Errorf("job chain of %d: %+v, %v", rep.Jobs[0].JobID, chain, err)
	}
	if chain, err := e.st.JobChain(e.ctx, first.Jobs[0].JobID); err != nil || len(chain) != 1 {
		t.Errorf("the first run's job is continued by another run's job: %+v, %v", chain, err)
	}
	if got := transitionsTo(rep); !slices.Equal(got, []string{"backup_active(primary_db_down)"}) {
		t.Errorf("transitions: %v", got)
	}
	if w := e.clock.Waits(); len(w) != 0 {
		t.Errorf("waited %v before failing over", w)
	}
	t.Logf("primary killed -> backup snapshot committed and promoted: %s", time.Since(killed).Round(time.Millisecond))

	to := promotedDiario(t, rep)
	m := e.manifestAt(to)
	if m.Status != "promoted" || m.Source.Role != "backup" || m.JobID != rep.Jobs[1].JobID {
		t.Errorf("primary layout's manifest: status %s role %s job %d", m.Status, m.Source.Role, m.JobID)
	}
	e.checkComplete(to, e.replica)
	if e.state() != failover.BackupActive {
		t.Errorf("state %s", e.state())
	}
}

func TestRun_PrimaryKilledDuringTheSyncFailsOverAndTheDayEndsComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 6000, settings: "  max_rows_per_second: 4000"})
	e.healthy()

	progress := syncer.NewProgress()
	type outcome struct {
		rep *Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := e.o.Run(context.Background(), primaryConn, Options{Progress: progress})
		done <- outcome{rep, err}
	}()
	// Kill the primary once rows are flowing, well before the job can end.
	deadline := time.Now().Add(30 * time.Second)
	for progressRows(progress) < 1000 {
		if time.Now().After(deadline) {
			t.Fatal("the primary's sync read nothing in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.primary.Kill(t)
	killed, readBeforeKill := time.Now(), progressRows(progress)
	var out outcome
	select {
	case out = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not end within 2 minutes of the kill")
	}
	elapsed := time.Since(killed)
	rep := out.rep
	if out.err != nil {
		t.Fatalf("run: %v (%+v)", out.err, rep)
	}
	if len(rep.Jobs) != 2 || rep.Jobs[0].Status != "failed" || rep.Jobs[1].Connection != backupConn || rep.Jobs[1].Status != "succeeded" {
		t.Fatalf("jobs: %+v", rep.Jobs)
	}
	for _, s := range rep.Jobs[0].Streams {
		if s.Status == "committed" && s.Name == diario {
			t.Fatalf("the primary committed %s before the kill: the kill came too late to test anything", diario)
		}
	}
	t.Logf("primary killed mid-sync (%d rows read) -> backup snapshot committed: %s (failover after the job's failure: %s); run ended %s after the kill",
		readBeforeKill, rep.Jobs[1].EndedAt.Sub(killed).Round(time.Millisecond), rep.FailoverAfter.Round(time.Millisecond),
		elapsed.Round(time.Millisecond))

	to := promotedDiario(t, rep)
	e.checkComplete(to, e.replica)
	// Nothing of the failed primary job is visible: its parts were never
	// published and its staging is gone.
	m := e.manifestAt(to)
	for _, f := range m.Files {
		if f.JobID != rep.Jobs[1].JobID {
			t.Errorf("file of job %d in the promoted snapshot: %s", f.JobID, f.Key)
		}
	}
	staging := e.s3.ObjectPath(e.project.Bucket, path.Join("origin=airbyte/database=bronze_acode/_acode_staging", primaryConn, strconv.FormatInt(rep.Jobs[0].JobID, 10)))
	if _, err := os.Stat(staging); err == nil {
		if entries, _ := os.ReadDir(staging); len(entries) > 0 {
			t.Errorf("the failed job left staged parts in %s", staging)
		}
	}
}

func progressRows(p *syncer.Progress) int64 {
	var n int64
	for _, s := range p.Streams() {
		n += s.Rows()
	}
	return n
}

func TestRun_WrongPasswordOrUnreachablePrimaryUsesTheBackupAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{rows: 1000})
	e.healthy()

	e.project.Env["ACODE_PASS"] = "not-the-password"
	e.open()
	rep, err := e.run(Options{})
	if err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	if got := transitionsTo(rep); !slices.Equal(got, []string{"backup_active(authentication_failed)"}) || rep.Last().Connection != backupConn {
		t.Errorf("wrong password: transitions %v, last job %+v", got, rep.Last())
	}

	// Back to the primary by hand, then the host stops answering.
	pair, _ := e.o.Pair(primaryConn)
	if _, err := e.o.Machine(pair).Failback(e.ctx, "test", "password fixed"); err != nil {
		t.Fatal(err)
	}
	e.project.Env["ACODE_PASS"] = "s3cr3t-Acode-pass"
	e.project.Edit(t, "sources/source_mysql_acode/configuration.yaml", "port: "+strconv.Itoa(e.primary.Port), "port: 1")
	e.open()
	rep, err = e.run(Options{})
	if err != nil {
		t.Fatalf("unreachable host: %v", err)
	}
	if got := transitionsTo(rep); !slices.Equal(got, []string{"backup_active(primary_db_down)"}) || rep.Last().Connection != backupConn {
		t.Errorf("unreachable host: transitions %v, last job %+v", got, rep.Last())
	}
	if w := e.clock.Waits(); len(w) != 0 {
		t.Errorf("waited %v: these classes use the backup at once", w)
	}
	var nse *NotSyncedError
	if errors.As(err, &nse) {
		t.Errorf("not synced: %v", err)
	}
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
