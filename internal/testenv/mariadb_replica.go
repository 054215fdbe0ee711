package testenv

import (
	"context"
	"testing"

	"github.com/acode-dev/acode/internal/sandbox"
)

// StartReplica starts a second instance replicating from primary over GTID,
// read_only, once both replication threads run; stopped at cleanup. opts
// (at most one) configure the replica's server.
func StartReplica(t testing.TB, primary *MariaDB, opts ...MariaDBOptions) *MariaDB {
	t.Helper()
	SkipShort(t, "a MariaDB replica")
	r, err := sandbox.StartReplica(t.TempDir(), primary.Server, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return &MariaDB{r}
}

// WaitReplicaCaughtUp waits until m, a replica, has applied everything in
// primary's binlog.
func (m *MariaDB) WaitReplicaCaughtUp(t testing.TB, primary *MariaDB) {
	t.Helper()
	if err := m.WaitCaughtUp(context.Background(), primary.Server); err != nil {
		t.Fatal(err)
	}
}
