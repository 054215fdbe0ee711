package syncer

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
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
	// Zero dates, which no Parquet DATE holds: written as NULL by workers
	// of both pools, and counted in the job's result and manifest.
	zeroDates := zeroSomeDates(t, m.Root(t), database)
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
	var dr StreamResult
	for _, r := range res.Streams {
		if r.Name == diario {
			dr = r
		}
	}
	data, err := os.ReadFile(filepath.Join(s3.Dir, f.Bucket, dr.Partition, layout.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var man snapshot.Manifest
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}
	if dr.NulledValues["Data"] != zeroDates || man.NulledValues["Data"] != zeroDates {
		t.Errorf("nulled Data values: result %v, manifest %v; the source holds %d zero dates", dr.NulledValues, man.NulledValues, zeroDates)
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

// zeroSomeDates sets diario's Data to a zero date on every 97th row (a
// session without strict mode may store them) and returns how many.
func zeroSomeDates(t *testing.T, db *sql.DB, database string) int64 {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	res, err := conn.ExecContext(t.Context(), "UPDATE `"+database+"`.`"+diario+"` SET Data = '2024-00-00' WHERE idpk % 97 = 0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		t.Fatalf("zero dates: %d rows, %v", n, err)
	}
	return n
}
