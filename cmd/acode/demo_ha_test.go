package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoHA_KillsTheLeaderAndTheWorkerAndLeavesNothing runs `acode demo
// --ha` as a user would: its output names a new leader after the kill of
// the old one, a job taken over after the kill of its worker that ends
// succeeded under its id, and once it exits no process of it runs and its
// temp dir is gone.
func TestDemoHA_KillsTheLeaderAndTheWorkerAndLeavesNothing(t *testing.T) {
	t.Parallel()
	// A short TMPDIR of the test's own (PostgreSQL's socket path is
	// limited): every process of the demo has it in its command line.
	tmp, err := os.MkdirTemp("/tmp", "hd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil { // PostgreSQL runs as user postgres under root
		t.Fatal(err)
	}
	cmd := exec.Command(acodeBin, "demo", "--ha", "--rows", "2000")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(12 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("acode demo --ha still running after 12 min:\n%s", out)
	}
	text := string(out)
	if err != nil {
		t.Fatalf("acode demo --ha: %v\n%s", err, text)
	}
	t.Logf("acode demo --ha:\n%s", text)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`new leader replica-\d after \d+(\.\d)?s`),
		regexp.MustCompile(`job (\d+) runs on replica-\d and has uploaded a part`),
		regexp.MustCompile(`job \d+ taken over by replica-\d after [0-9.ms]+s`),
	} {
		if !want.MatchString(text) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	killed := regexp.MustCompile(`job (\d+) runs on`).FindStringSubmatch(text)
	if killed != nil && !regexp.MustCompile(`job `+killed[1]+` succeeded \(jobs/get on replica-\d\), [1-9]\d* rows`).MatchString(text) {
		t.Errorf("job %s did not end succeeded with its rows:\n%s", killed[1], text)
	}
	if left, _ := exec.Command("pgrep", "-f", tmp).Output(); strings.TrimSpace(string(left)) != "" {
		t.Errorf("processes of the demo still run: pids %s", left)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("the demo left %d entries in its temp dir", len(ents))
	}
}

// TestDemoHA_CtrlCStopsEverything interrupts `acode demo --ha` once its
// three replicas run, as Ctrl-C does: it exits, and no process of it runs
// and nothing is left in its temp dir.
func TestDemoHA_CtrlCStopsEverything(t *testing.T) {
	t.Parallel()
	tmp, err := os.MkdirTemp("/tmp", "hd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(acodeBin, "demo", "--ha", "--rows", "2000")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(stdout)
	started := false
	for !started && sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		started = strings.Contains(sc.Text(), "replica-3 on")
	}
	if !started {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("acode demo --ha ended before its three replicas ran:\n%s", seen.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("acode demo --ha still running 2 min after the interrupt:\n%s", seen.String())
	}
	if err == nil {
		t.Errorf("acode demo --ha exited 0 after the interrupt")
	}
	if left, _ := exec.Command("pgrep", "-f", tmp).Output(); strings.TrimSpace(string(left)) != "" {
		t.Errorf("processes of the demo still run after the interrupt: pids %s", left)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("the demo left %d entries in its temp dir after the interrupt", len(ents))
	}
}
