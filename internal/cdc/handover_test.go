package cdc_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// usePostgresState points the project's state_db at a new database of the
// shared PostgreSQL cluster, as replicas of acode serve share it.
func usePostgresState(t *testing.T, e *cdcEnv) string {
	t.Helper()
	url := testenv.SharedPostgres(t).NewDatabase(t)
	e.project.Edit(t, "acode.yaml", "state_db: .acode/state.db", "state_db: "+url)
	return url
}

// logged reports whether p logged a line whose msg is msg, and its fields.
func (p *cdcProcess) logged(msg string) (map[string]any, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.log {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			return m, true
		}
	}
	return nil, false
}

// TestAcodeServe_KillNineOfTheLeaderHandsTheReaderToAnotherReplica: three
// acode serve on one PostgreSQL state; the leader runs the reader; kill -9
// of it while the writer goes on: another replica leads, takes the
// reader's lock (a session lock in PostgreSQL, freed by the server when
// the leader's sessions die) and continues from the checkpoint, with every
// transaction exactly once.
func TestAcodeServe_KillNineOfTheLeaderHandsTheReaderToAnotherReplica(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 1s")
	usePostgresState(t, e)
	duck := testenv.DuckDB(t)
	var reps []*cdcProcess
	for range 3 {
		sp, _ := startServe(t, bin, e)
		reps = append(reps, sp)
	}
	reader := func(among []*cdcProcess) *cdcProcess {
		for _, r := range among {
			if _, ok := r.logged("cdc reader starting"); ok {
				return r
			}
		}
		return nil
	}
	var leader *cdcProcess
	poll(t, 2*time.Minute, "one replica to start the reader", func() bool { leader = reader(reps); return leader != nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWriter(t, e.primary, e.database)
	writes := make(chan error, 1)
	go func() { writes <- w.run(ctx, 400, 25*time.Millisecond) }()
	leader.waitLog(t, "cdc file committed", 2*time.Minute)
	leader.kill(t) // while the writer goes on
	killed := time.Now()
	var rest []*cdcProcess
	for _, r := range reps {
		if r != leader {
			rest = append(rest, r)
		}
	}
	var next *cdcProcess
	poll(t, 2*time.Minute, "another replica to start the reader", func() bool { next = reader(rest); return next != nil })
	handover := time.Since(killed)
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	st := e.state(t)
	poll(t, 3*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	t.Logf("reader started on another replica %.1fs after kill -9 of the leader; caught up %.1fs after the kill",
		handover.Seconds(), time.Since(killed).Seconds())
	for _, r := range rest {
		if r != next && reader([]*cdcProcess{r}) != nil {
			t.Errorf("a third replica started a reader too")
		}
	}
	// A foreground reader on the same state is refused while the new
	// leader's runs: one reader per connection across every process.
	fg := exec.Command(bin, "--config", e.project.Dir, "cdc", cdcConnection)
	fg.Env = e.project.Environ()
	out, err := fg.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 || !strings.Contains(string(out), "another acode cdc reads this connection") {
		t.Errorf("acode cdc beside the serve replica's reader: %v, want exit 5 (busy):\n%s", err, out)
	}
	next.terminate(t)
	for _, r := range rest {
		if r != next {
			r.cmd.Process.Signal(syscall.SIGTERM)
			if err := <-r.done; err != nil && !strings.Contains(err.Error(), "signal") {
				t.Errorf("acode serve after SIGTERM: %v", err)
			}
		}
	}
	checkExactlyOnce(t, e, w, duck)
	checkNewestRows(t, e, duck)
	checkPartitionsClean(t, e)
}
