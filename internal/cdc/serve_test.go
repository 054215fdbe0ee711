package cdc_test

import (
	"context"
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// startServe runs `acode serve` on a free port; as the only replica (SQLite
// state) it leads, so it runs the CDC connection's reader.
func startServe(t *testing.T, bin string, e *cdcEnv) *cdcProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return startProcess(t, exec.Command(bin, "--config", e.project.Dir, "--log-format", "json", "serve", "--listen", addr),
		e, "ACODE_API_USER=airflow", "ACODE_API_PASSWORD=serve-test-password")
}

func (p *cdcProcess) terminate(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitLog(t, "cdc reader stopped", 2*time.Minute) // it committed what it held
	if err := <-p.done; err != nil {
		t.Fatalf("acode serve after SIGTERM: %v", err)
	}
}

func TestAcodeServe_RunsTheCDCReaderAndContinuesFromItsCheckpointAfterARestart(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sp := startServe(t, bin, e)
	sp.waitLog(t, "cdc reader starting", time.Minute)
	w := newWriter(t, e.primary, e.database)
	writes := make(chan error, 1)
	go func() { writes <- w.run(ctx, 300, 20*time.Millisecond) }()
	sp.waitLog(t, "cdc file committed", 2*time.Minute)
	sp.terminate(t) // while the writer goes on

	sp = startServe(t, bin, e)
	sp.waitLog(t, "cdc reader starting", time.Minute)
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	st := e.state(t)
	poll(t, 3*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	sp.terminate(t)
	checkExactlyOnce(t, e, w, duck)
	checkNewestRows(t, e, duck)
	checkPartitionsClean(t, e)
}
