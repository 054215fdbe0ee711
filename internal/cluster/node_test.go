package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openStore(t *testing.T, loc string) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

func leaders(nodes []*Node) []string {
	var out []string
	for _, n := range nodes {
		if n != nil && n.IsLeader() {
			out = append(out, n.ID())
		}
	}
	return out
}

func TestNodes_OneLeaderAndAResigningLeaderIsReplaced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.SharedPostgres(t).NewDatabase(t)
	var nodes []*Node
	var terms [3]atomic.Int32
	for i := range 3 {
		n, err := Join(ctx, openStore(t, url), Options{ID: fmt.Sprintf("replica-%d", i), Addr: "127.0.0.1:800" + fmt.Sprint(i)})
		if err != nil {
			t.Fatalf("Join %d: %v", i, err)
		}
		t.Cleanup(func() { _ = n.Leave(context.Background()) })
		stop := n.WhileLeader(ctx, func(ctx context.Context) {
			terms[i].Add(1)
			<-ctx.Done()
		})
		t.Cleanup(stop)
		nodes = append(nodes, n)
	}
	waitFor(t, 30*time.Second, "a leader among three replicas", func() bool { return len(leaders(nodes)) == 1 })
	first := leaders(nodes)[0]
	members, err := nodes[0].Members(ctx)
	if err != nil || len(members) != 3 {
		t.Fatalf("Members = %+v, %v; want the three replicas", members, err)
	}
	for _, m := range members {
		if m.Leader != (m.ID == first) || m.Self != (m.ID == "replica-0") {
			t.Errorf("member %+v: leader should be %s only, self replica-0 only", m, first)
		}
	}
	var idx int
	fmt.Sscanf(first, "replica-%d", &idx)
	waitFor(t, 5*time.Second, "the leader's term to start", func() bool { return terms[idx].Load() == 1 })

	if err := nodes[idx].Leave(ctx); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	rest := append(append([]*Node{}, nodes[:idx]...), nodes[idx+1:]...)
	took := waitFor(t, 30*time.Second, "a new leader after the leader resigned", func() bool {
		l := leaders(rest)
		return len(l) == 1 && l[0] != first
	})
	t.Logf("new leader %v %v after a graceful resignation", leaders(rest), took)
	for i := range 3 {
		if n := terms[i].Load(); n > 1 {
			t.Errorf("replica-%d started %d terms; want at most one", i, n)
		}
	}
	if len(leaders(nodes)) != 1 {
		t.Errorf("leaders %v after the change; want exactly one", leaders(nodes))
	}
}

func TestNode_OnSQLiteLeadsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	n, err := Join(ctx, st, Options{Addr: "127.0.0.1:8001"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Leave(ctx)
	ran := make(chan struct{})
	stop := n.WhileLeader(ctx, func(ctx context.Context) { close(ran); <-ctx.Done() })
	defer stop()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the single SQLite replica did not run the leader's loops")
	}
	if ms, err := n.Members(ctx); err != nil || len(ms) != 1 || !ms[0].Leader || !ms[0].Self {
		t.Errorf("Members = %+v, %v; want itself, leading", ms, err)
	}
}
