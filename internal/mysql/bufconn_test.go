package mysql

import (
	"context"
	"strconv"
	"testing"
)

// TestOpen_PooledConnectionKilledByServerIsReplaced checks that the read
// buffer under the driver keeps its stale-connection check working: a
// pooled connection the server killed while idle is dropped, and the next
// query runs on a fresh one instead of failing.
func TestOpen_PooledConnectionKilledByServerIsReplaced(t *testing.T) {
	t.Parallel()
	m, _, name := openShared(t)
	ctx := context.Background()
	db, err := Open(ctx, rootConfig(m, name))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var id int64
	if err := db.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	m.Exec(t, "KILL CONNECTION "+strconv.FormatInt(id, 10))
	var again int64
	if err := db.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&again); err != nil {
		t.Fatalf("query after the server killed the pooled connection: %v", err)
	}
	if again == id {
		t.Errorf("still on connection %d after it was killed", id)
	}
}
