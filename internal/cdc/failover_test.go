package cdc_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/testenv"
)

// syncBuffer is a log destination a test reads while the reader writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runInProcess starts cdc.Run on the env's connection and returns its
// log and a stop func that waits for it and returns its error.
func runInProcess(t *testing.T, e *cdcEnv) (*syncBuffer, func() error) {
	t.Helper()
	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	o, err := cdc.Open(ctx, p, cdcConnection, e.state(t), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cdc.Run(ctx, o.Config) }()
	var once sync.Once
	var result error
	stop := func() error { // the first call stops Run (or collects how it ended); later ones repeat the answer
		once.Do(func() { cancel(); result = <-done; o.Close() })
		return result
	}
	t.Cleanup(func() { stop() })
	return logs, stop
}

// waitRunEnd waits for a Run started by runInProcess to end on its own.
func waitRunEnd(t *testing.T, logs *syncBuffer, what string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(logs.String(), "cdc reader halted") {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; the reader logged:\n%s", what, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestRun_ReadingTheReplicaThroughKillNineOfThePrimaryAndPromotion(t *testing.T) {
	t.Parallel()
	e := newCDCPairEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	logs, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	if !strings.Contains(logs.String(), "source=source_mysql_acode_backup") {
		t.Fatalf("the reader of a pair's primary does not read the backup replica:\n%s", logs)
	}
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 100, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	e.primary.Kill(t)
	promoted := time.Now()
	e.replica.Exec(t, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	w.db = e.replica.Root(t) // the application fails over too
	if err := w.run(ctx, 100, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	t.Logf("caught up %.1fs after the promotion, at %s", time.Since(promoted).Seconds(), want)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, e, w, duck)
	checkNewestRowsOn(t, e, e.replica, duck)
}

func TestRun_TheServerReadDiesAndTheReaderContinuesOnTheOtherByGTID(t *testing.T) {
	t.Parallel()
	e := newCDCPairEnv(t, "flush_interval: 1s", "switch_after: 2", "retry_max: 2s", "heartbeat: 1s", "read_timeout: 3s")
	duck := testenv.DuckDB(t)
	st := e.state(t)
	logs, stop := runInProcess(t, e)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWriter(t, e.primary, e.database)
	writes := make(chan error, 1)
	go func() { writes <- w.run(ctx, 300, 20*time.Millisecond) }()
	time.Sleep(2 * time.Second)
	e.replica.Kill(t) // the server read, mid-stream; the writer goes on on the primary
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	poll(t, 2*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "cdc reader continues on another server") {
		t.Errorf("no switch to the primary in the log:\n%s", logs)
	}
	checkExactlyOnce(t, e, w, duck)
	checkNewestRows(t, e, duck)
}
