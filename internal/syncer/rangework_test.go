package syncer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestSync_SharedRangesAreReadByTheWorkersOfEveryPoolAndCommittedOnce: a
// job with SharedRanges on a PostgreSQL state queues its ranges; two pools
// of range workers (two owners, as two replicas) read them to S3; the job
// commits one manifest per stream and DuckDB reads every key once.
func TestSync_SharedRangesAreReadByTheWorkersOfEveryPoolAndCommittedOnce(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 6000)
	s3 := testenv.StartS3(t)
	f := newFixture(t, m, database, s3)
	f.Settings(t, "chunk_rows: 400", "max_parallel_reads: 2", "file_size_mb: 1")
	f.Edit(t, "acode.yaml", "state_db: .acode/state.db", "state_db: "+testenv.SharedPostgres(t).NewDatabase(t))
	p := f.project(t)
	ctx := context.Background()
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	s := &Syncer{Project: p, State: st, Log: log, SharedRanges: true}
	for _, owner := range []string{"replica-a:1", "replica-b:1"} {
		// One worker each: with a budget of 2, both pools must read.
		stop := (&RangeWorkers{Syncer: s, Owner: owner, Workers: 1, Log: log.With("pool", owner)}).Start(ctx)
		defer stop()
	}
	res, err := s.Run(ctx, "connection_mysql_s3_acode", Options{Owner: "replica-a:1"})
	if err != nil || res.Status != "succeeded" {
		t.Fatalf("sync: %v (%+v)", err, res)
	}
	duck := testenv.DuckDB(t)
	for _, str := range res.Streams {
		want := count(t, m.Root(t), database, str.Name)
		glob := testenv.SQLString(filepath.Join(s3.Dir, f.Bucket, str.Partition, "*.parquet"))
		got := duck.Query(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS k FROM read_parquet("+glob+")")
		if got[0]["n"] != fmt.Sprint(want) || got[0]["k"] != fmt.Sprint(want) || str.Rows != want {
			t.Errorf("%s: DuckDB reads %v rows / %v distinct keys, the job says %d; the table holds %d", str.Name, got[0]["n"], got[0]["k"], str.Rows, want)
		}
		for _, name := range []string{layout.ManifestName, layout.SuccessName} {
			if _, err := os.Stat(filepath.Join(s3.Dir, f.Bucket, str.Partition, name)); err != nil {
				t.Errorf("%s: %v", str.Name, err)
			}
		}
		commits, err := st.Commits(ctx, "connection_mysql_s3_acode", str.Name, res.StartedAt.Add(-1))
		if err != nil || len(commits) != 1 {
			t.Errorf("%s: commits %+v %v, want one", str.Name, commits, err)
		}
	}
	// The done tasks say which pool read which range.
	readers := map[string]int{}
	for _, str := range res.Streams {
		tasks, err := st.RangeTasks(ctx, res.JobID, str.Name)
		if err != nil || len(tasks) == 0 {
			t.Fatalf("range tasks of %s: %d %v", str.Name, len(tasks), err)
		}
		for _, task := range tasks {
			if task.Status != state.RangeDone {
				t.Errorf("%s range %d: %s after the commit", str.Name, task.Index, task.Status)
			}
			readers[task.Owner]++
		}
	}
	if len(readers) != 2 {
		t.Errorf("ranges read by %v, want both pools", readers)
	}
}
