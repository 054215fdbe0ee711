package failover

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/state"
)

// reportProject is a project of the named connections, each on a source of
// its own, with its scratch root in a temp dir.
func reportProject(t *testing.T, names ...string) *config.Project {
	t.Helper()
	p := &config.Project{Connections: map[string]*config.Connection{}}
	p.Settings.Sync.SpoolDir = t.TempDir()
	for _, n := range names {
		p.Connections[n] = &config.Connection{ResourceName: n, Source: &config.Source{ResourceName: n + "_src"}}
	}
	return p
}

func reportStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A project without failover pairs has a report, not an error: each
// connection with its newest jobs and its scratch dirs, and a note that
// there are no pairs.
func TestReportOf_WithoutPairsListsEachConnectionsJobsAndScratch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := reportProject(t, "a", "b")
	st := reportStore(t)
	var jobsOfA []int64
	for i := 0; i < 4; i++ {
		j, err := st.CreateJob(ctx, "a", "primary", "test")
		if err != nil {
			t.Fatal(err)
		}
		jobsOfA = append(jobsOfA, j.ID)
		if err := st.FinishJob(ctx, j.ID, state.JobSucceeded, "", 10, 100); err != nil {
			t.Fatal(err)
		}
	}
	left, err := scratch.Dir{Root: p.Settings.Sync.SpoolDir}.Create("b", 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "part.parquet"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}

	rep, err := ReportOf(ctx, st, p, "", StatusOptions{Jobs: 3})
	if err != nil {
		t.Fatalf("report of a project without pairs: %v", err)
	}
	if rep.NoPairs != NoPairsHint || len(rep.Pairs) != 0 {
		t.Errorf("no pairs: note %q, %d pairs", rep.NoPairs, len(rep.Pairs))
	}
	if len(rep.Connections) != 2 || rep.Connections[0].Connection != "a" || rep.Connections[1].Connection != "b" {
		t.Fatalf("connections: %+v", rep.Connections)
	}
	a, b := rep.Connections[0], rep.Connections[1]
	if len(a.Jobs) != 3 || a.Jobs[0].ID != jobsOfA[3] || len(a.Scratch) != 0 {
		t.Errorf("a: jobs %+v (want the newest 3 of %v), scratch %+v", a.Jobs, jobsOfA, a.Scratch)
	}
	if len(b.Jobs) != 0 || len(b.Scratch) != 1 || b.Scratch[0].JobID != 7 || b.Scratch[0].Bytes != 1000 {
		t.Errorf("b: jobs %+v, scratch %+v (want job 7's 1000 bytes)", b.Jobs, b.Scratch)
	}

	only, err := ReportOf(ctx, st, p, "b", StatusOptions{Jobs: 3})
	if err != nil || len(only.Connections) != 1 || only.Connections[0].Connection != "b" {
		t.Errorf("report of b alone: %+v, %v", only.Connections, err)
	}
	if _, err := ReportOf(ctx, st, p, "nope", StatusOptions{}); !errors.Is(err, config.ErrUnknownConnection) {
		t.Errorf("report of an unknown connection: %v, want config.ErrUnknownConnection", err)
	}
}

// With a pair, its two connections are in the pair's status only and the
// other connections are listed beside it; naming one of the pair's
// connections shows that pair alone.
func TestReportOf_PairedConnectionsAreInTheirPairOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := reportProject(t, "conn", "conn_backup", "other")
	st := reportStore(t)
	for _, c := range []string{"conn", "conn_backup", "other"} {
		if _, err := st.CreateJob(ctx, c, "primary", "test"); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := ReportOf(ctx, st, p, "", StatusOptions{Jobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.NoPairs != "" || len(rep.Pairs) != 1 || rep.Pairs[0].Pair.Primary != "conn" || len(rep.Pairs[0].Jobs) != 2 {
		t.Fatalf("pairs: %+v (note %q)", rep.Pairs, rep.NoPairs)
	}
	if len(rep.Connections) != 1 || rep.Connections[0].Connection != "other" || len(rep.Connections[0].Jobs) != 1 {
		t.Errorf("connections beside the pair: %+v", rep.Connections)
	}
	only, err := ReportOf(ctx, st, p, "conn_backup", StatusOptions{})
	if err != nil || len(only.Pairs) != 1 || len(only.Connections) != 0 {
		t.Errorf("report of conn_backup: %+v, %v", only, err)
	}
}
