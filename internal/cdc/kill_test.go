package cdc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

var (
	buildOnce sync.Once
	acodeBin  string
	buildErr  error
)

// buildAcode builds the real binary once for the package's tests.
func buildAcode(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "acode-cdc-bin-")
		if err != nil {
			buildErr = err
			return
		}
		acodeBin = filepath.Join(dir, "acode")
		if out, err := exec.Command("go", "build", "-o", acodeBin, "../../cmd/acode").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build acode: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return acodeBin
}

// cdcProcess is one `acode cdc` child whose log lines are scanned. Every
// line is kept, so a line logged just before the process exits is still
// seen by waitLog.
type cdcProcess struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	log    []string
	next   int           // the first line waitLog has not looked at
	grew   chan struct{} // closed and replaced when lines are added
	exited chan struct{} // closed after the last line was read
	err    error         // cmd.Wait's, once exited is closed
	done   chan error
}

func startCDC(t *testing.T, bin string, e *cdcEnv, env ...string) *cdcProcess {
	t.Helper()
	return startProcess(t, exec.Command(bin, "--config", e.project.Dir, "--log-format", "json", "cdc", cdcConnection), e, env...)
}

// startProcess starts an acode command in the project's environment.
func startProcess(t *testing.T, cmd *exec.Cmd, e *cdcEnv, env ...string) *cdcProcess {
	t.Helper()
	cmd.Env = append(e.project.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &cdcProcess{cmd: cmd, grew: make(chan struct{}), exited: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			close(p.grew)
			p.grew = make(chan struct{})
			p.mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
		p.err = cmd.Wait()
		close(p.exited)
		p.done <- p.err
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// waitLog waits for a log line whose msg is msg and returns its fields.
func (p *cdcProcess) waitLog(t *testing.T, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		lines, grew := p.log[p.next:], p.grew
		p.next = len(p.log)
		p.mu.Unlock()
		for _, l := range lines {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
				return m
			}
			if strings.Contains(l, `"level":"ERROR"`) {
				t.Logf("acode cdc: %s", l)
			}
		}
		select {
		case <-grew:
		case <-p.exited:
			p.mu.Lock()
			more := p.next < len(p.log)
			p.mu.Unlock()
			if !more {
				t.Fatalf("acode cdc exited (%v) before logging %q", p.err, msg)
			}
		case <-deadline:
			t.Fatalf("acode cdc did not log %q within %s", msg, timeout)
		}
	}
}

func (p *cdcProcess) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// checkPartitionsClean asserts that every change-log file in the bronze
// layout is listed by its partition's manifest and the staging area is empty.
func checkPartitionsClean(t *testing.T, e *cdcEnv) {
	t.Helper()
	root := filepath.Join(e.project.LocalRoot(), "origin=airbyte", "database=bronze_acode")
	for _, table := range demo.Tables() {
		files, _ := filepath.Glob(e.changeLogGlob(table))
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(filepath.Dir(f), layout.ManifestName))
			if err != nil {
				t.Errorf("%s has no manifest beside it: %v", f, err)
				continue
			}
			var m snapshot.Manifest
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(e.project.LocalRoot(), f)
			listed := false
			for _, k := range m.Keys() {
				listed = listed || k == filepath.ToSlash(rel)
			}
			if !listed {
				t.Errorf("%s is in the partition but not in its manifest", rel)
			}
		}
	}
	staged, _ := filepath.Glob(filepath.Join(root, "_acode_staging", "*", "*", "*", "*"))
	if len(staged) != 0 {
		t.Errorf("staging area not empty after a clean stop: %v", staged)
	}
}

func TestAcodeCDC_KillNineBetweenUploadAndCommitLosesAndRepeatsNothing(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The state is PostgreSQL behind toxiproxy: with 300 ms on every answer
	// from it, each step of a commit (pending record, partition commit,
	// checkpoint) takes long enough to be seen from the outside, on the
	// store directly, and the process killed right there.
	proxy, st := slowableState(t, e)

	// 1. Killed once a file is staged and recorded as in flight, before the
	// commit: the staged copy is there, the partition does not list it.
	// The writer starts once the first checkpoint (the server's position
	// then: there is no backfill yet) is saved.
	p := startCDC(t, bin, e)
	p.waitLog(t, "cdc reader starting", time.Minute)
	w := newWriter(t, e.primary, e.database)
	writes := make(chan error, 1)
	go func() { writes <- w.run(ctx, 400, 25*time.Millisecond) }()
	proxy.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 300})
	inFlight := killInFlight(t, p, st, e, false)
	if listedIn(t, e, inFlight) {
		t.Fatalf("%s is in its manifest although the process was killed before the commit", inFlight.File)
	}
	if staged, _ := filepath.Glob(filepath.Join(e.project.LocalRoot(), "origin=airbyte", "database=bronze_acode", "_acode_staging", "*", "*", "*", "*.parquet")); len(staged) == 0 {
		t.Fatal("no staged file after the upload: the kill did not land between the upload and the commit")
	}
	// 1b. The next process drops it; killed once a file is committed into
	// its partition but its checkpoint not yet moved past it.
	p = startCDC(t, bin, e)
	p.waitLog(t, "cdc commit of the previous process never happened; its transactions are read again", 2*time.Minute)
	inFlight = killInFlight(t, p, st, e, true)
	p = startCDC(t, bin, e)
	if m := p.waitLog(t, "cdc commit of the previous process completed", 2*time.Minute); m["key"] != inFlight.File {
		t.Errorf("the commit completed is %v, want %s", m["key"], inFlight.File)
	}
	p.kill(t)
	proxy.RemoveToxic(t, "slow")

	// 2. Killed at random moments while the writer goes on.
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 4; i++ {
		p = startCDC(t, bin, e)
		p.waitLog(t, "cdc reader starting", time.Minute)
		time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
		p.kill(t)
	}

	// 3. A last process catches up and stops on SIGTERM.
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	p = startCDC(t, bin, e)
	p.waitLog(t, "cdc reader starting", time.Minute) // its signal handler is set: SIGTERM stops it cleanly
	poll(t, 3*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("acode cdc after SIGTERM: %v", err)
	}
	checkExactlyOnce(t, e, w, duck)
	checkNewestRows(t, e, duck)
	checkPartitionsClean(t, e)
}

// inFlight is a change log's commit in flight as the state records it.
type inFlight struct {
	Manifest string `json:"manifest"`
	File     string `json:"file"`
	Position string `json:"position"`
}

// killInFlight polls the state store for a commit in flight of any stream
// (its pending record) and kills p the moment one is seen: before its
// partition commit (committed false), or once the manifest lists its file
// while the record is still there (committed true).
func killInFlight(t *testing.T, p *cdcProcess, st *state.Store, e *cdcEnv, committed bool) inFlight {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		for _, table := range demo.Tables() {
			c, ok, err := st.GetCursor(context.Background(), cdcConnection, table+"_cdc#pending")
			if err != nil {
				t.Fatal(err)
			}
			if !ok || c.Value == "" {
				continue
			}
			var f inFlight
			if err := json.Unmarshal([]byte(c.Value), &f); err != nil {
				t.Fatal(err)
			}
			if committed && !listedIn(t, e, f) {
				continue
			}
			p.kill(t)
			return f
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no commit in flight (committed %v) seen in the state store", committed)
	return inFlight{}
}

// listedIn reports whether the partition's manifest lists the file.
func listedIn(t *testing.T, e *cdcEnv, f inFlight) bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.project.LocalRoot(), filepath.FromSlash(f.Manifest)))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	var m snapshot.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return false // being replaced: read it again on the next poll
	}
	return slices.Contains(m.Keys(), f.File)
}

// slowableState points the project's state_db at a new PostgreSQL
// database through a toxiproxy proxy (to slow it with a latency toxic) and
// returns the proxy and a store reaching the database directly.
func slowableState(t *testing.T, e *cdcEnv) (*testenv.ToxiProxy, *state.Store) {
	t.Helper()
	pg := testenv.SharedPostgres(t)
	url := pg.NewDatabase(t)
	direct := fmt.Sprintf("%s:%d", pg.Host, pg.Port)
	proxy := testenv.StartToxiproxy(t).Proxy(t, "state", direct)
	e.project.Edit(t, "acode.yaml", "state_db: .acode/state.db", "state_db: "+strings.Replace(url, direct, proxy.Addr(), 1))
	st, err := state.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return proxy, st
}
