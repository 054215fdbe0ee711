package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

func TestReplication_ReportsRunningThenPrimaryLoss(t *testing.T) {
	t.Parallel()
	primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	replica := testenv.StartReplica(t, primary)
	ctx := context.Background()

	pdb, err := Open(ctx, rootConfig(primary, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	if st, err := Replication(ctx, pdb); err != nil || st.IsReplica {
		t.Fatalf("primary: %+v %v, want not a replica", st, err)
	}

	rdb, err := Open(ctx, rootConfig(replica, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	primary.Exec(t, "CREATE DATABASE x", "CREATE TABLE x.t (id INT PRIMARY KEY)", "INSERT INTO x.t VALUES (1)")
	replica.WaitReplicaCaughtUp(t, primary)
	st, err := Replication(ctx, rdb)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsReplica || !st.Running() || st.SecondsBehind == nil || *st.SecondsBehind != 0 ||
		st.SourcePort != primary.Port || st.GTIDIOPos == "" {
		t.Fatalf("caught-up replica: %+v", st)
	}
	info, err := ServerInfo(ctx, rdb)
	if err != nil || !info.ReadOnly {
		t.Fatalf("replica server info: %+v %v, want read_only", info, err)
	}

	primary.Kill(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err = Replication(ctx, rdb)
		if err != nil {
			t.Fatal(err)
		}
		if st.IORunning != "Yes" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica still reports IO running 20s after the primary died: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.SecondsBehind != nil || st.SQLRunning != "Yes" {
		t.Fatalf("after primary loss: %+v, want unknown lag and SQL thread still running", st)
	}
}
