package state

import (
	"context"
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
