package state

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// A replica stalled inside a write transaction (it holds the advisory
// write lock and sends nothing) does not block the other replicas' writes
// for longer than stalledTxTimeout: PostgreSQL ends its session.
func TestPostgres_AStalledWriteTransactionDoesNotBlockTheOthers(t *testing.T) {
	t.Parallel()
	url := testenv.SharedPostgres(t).NewDatabase(t)
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	stalled, other := open(), open()
	holding := make(chan struct{})
	wake := make(chan struct{})
	stalledDone := make(chan error, 1)
	go func() {
		stalledDone <- inTx(ctx, stalled.db, func(tx *txn) error {
			close(holding) // the write lock is held from here on
			<-wake
			_, err := tx.ExecContext(ctx, `SELECT 1`)
			return err
		})
	}()
	<-holding
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, stalledTxTimeout+20*time.Second)
	defer cancel()
	if _, err := other.CreateJob(wctx, "conn", "primary", "other:1"); err != nil {
		t.Fatalf("write beside a stalled transaction: %v", err)
	}
	took := time.Since(start)
	t.Logf("a write waited %v for a stalled transaction (timeout %v)", took.Round(100*time.Millisecond), stalledTxTimeout)
	if took > stalledTxTimeout+10*time.Second {
		t.Errorf("a write waited %v behind a stalled transaction", took)
	}
	close(wake)
	if err := <-stalledDone; err == nil {
		t.Error("the stalled transaction committed after its session was ended")
	}
}

// stalledWriters is how many write transactions the "queue" helper keeps
// asking for the write lock at once.
const stalledWriters = 4

// queueWriters is the "queue" helper: stalledWriters goroutines run write
// transactions back to back (each waits for the write lock the parent
// holds) until the parent stops and kills this process.
func queueWriters(ctx context.Context, url string) int {
	s, err := Open(ctx, url)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	for range stalledWriters {
		go func() {
			for {
				_ = inTx(ctx, s.db, func(tx *txn) error {
					_, err := tx.ExecContext(ctx, `SELECT 1`)
					return err
				})
			}
		}()
	}
	fmt.Println("ready")
	time.Sleep(2 * time.Minute) // never outlive a crashed parent for long
	return 0
}

// A replica stopped (SIGSTOP) while several of its write transactions wait
// for the write lock does not block the other replicas' writes for one
// stalledTxTimeout per waiter: a waiter is in the server's queue only while
// its process is alive to ask, so the stopped process's waiters leave it
// instead of each being granted, in turn, a lock it cannot use.
func TestPostgres_AStoppedProcessWaitingForTheWriteLockDoesNotBlockTheOthers(t *testing.T) {
	t.Parallel()
	url := testenv.SharedPostgres(t).NewDatabase(t)
	ctx := context.Background()
	other, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	proc, out := helper(t, "queue", "ACODE_STATE_DB="+url)
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("helper did not start: %q %v", out.Text(), out.Err())
	}
	holding, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- inTx(ctx, other.db, func(tx *txn) error {
			close(holding)
			for {
				select {
				case <-release:
					return nil
				case <-time.After(time.Second): // a live holder: never idle past stalledTxTimeout
				}
				if _, err := tx.ExecContext(ctx, `SELECT 1`); err != nil {
					return err
				}
			}
		})
	}()
	<-holding
	waiting := func() int {
		var n int
		if err := other.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for waiting() < stalledWriters {
		if time.Now().After(deadline) {
			t.Fatalf("the helper's %d writers never all waited for the write lock (%d do)", stalledWriters, waiting())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := proc.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Process.Signal(syscall.SIGCONT) })
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, (stalledWriters+2)*stalledTxTimeout)
	defer cancel()
	if _, err := other.CreateJob(wctx, "conn", "primary", "other:1"); err != nil {
		t.Fatalf("write beside a stopped process's waiters: %v", err)
	}
	took := time.Since(start)
	t.Logf("a write waited %v beside a stopped process with %d writers waiting for the lock (stalled transaction timeout %v)",
		took.Round(100*time.Millisecond), stalledWriters, stalledTxTimeout)
	// At most one of them may have been granted the lock before it left
	// the queue; it holds it until PostgreSQL ends its session.
	if took > stalledTxTimeout+5*time.Second {
		t.Errorf("a write waited %v behind a stopped process's %d waiting writers", took, stalledWriters)
	}
}
