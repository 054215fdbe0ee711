package syncer

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestSync_ManifestGTIDIsTheEarliestRangeSnapshot: while a full refresh
// reads diario in many ranges, a writer sets NF_Numero of every row to its
// step number in one transaction after another. Each range's rows then
// all carry the step its snapshot saw, and the manifest's GTID position
// must be exactly the GTID of the smallest such step: the earliest range
// snapshot, taken inside the range's transaction, not a position read
// before or beside them.
func TestSync_ManifestGTIDIsTheEarliestRangeSnapshot(t *testing.T) {
	t.Parallel()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{}) // its own server: no other test's transactions between the writer's
	database := "acode_snap"
	ctx := context.Background()
	root := m.Root(t)
	if err := demo.CreateSchema(ctx, root, database); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Fill(ctx, root, database, demo.Options{Rows: 2000, Seed: 7, Days: 3, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, m, database, nil)
	f.Settings(t, "chunk_rows: 100", "max_parallel_reads: 2", "parallel_streams: 1", "max_rows_per_second: 4000")

	steps := map[int64]string{} // step -> GTID of its transaction
	var mu sync.Mutex
	wctx, stopWriter := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	var werr error
	go func() {
		defer wg.Done()
		conn, err := root.Conn(wctx)
		if err != nil {
			werr = err
			return
		}
		defer conn.Close()
		for k := int64(1); wctx.Err() == nil; k++ {
			if _, err := conn.ExecContext(wctx, "UPDATE `"+database+"`.`"+diario+"` SET NF_Numero = ?", k); err != nil {
				if wctx.Err() == nil {
					werr = err
				}
				return
			}
			var g string
			if err := conn.QueryRowContext(wctx, "SELECT @@last_gtid").Scan(&g); err != nil {
				if wctx.Err() == nil {
					werr = err
				}
				return
			}
			mu.Lock()
			steps[k] = g
			mu.Unlock()
		}
	}()
	poll := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(steps)
		mu.Unlock()
		if n >= 3 || time.Now().After(poll) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := f.run(t, "connection_mysql_local_acode", Options{})
	stopWriter()
	wg.Wait()
	if err != nil || werr != nil {
		t.Fatalf("sync: %v; writer: %v", err, werr)
	}
	part := res.Streams[0].Partition
	store, _ := file.New(f.LocalRoot())
	man, err := snapshot.ReadManifest(ctx, store, layout.Join(part, layout.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	duck := testenv.DuckDB(t)
	got := duck.Query(t, "SELECT min(NF_Numero)::VARCHAR AS lo, max(NF_Numero)::VARCHAR AS hi, count(DISTINCT NF_Numero)::VARCHAR AS n FROM read_parquet("+
		testenv.SQLString(filepath.Join(f.LocalRoot(), part, "*.parquet"))+")")
	var lo, hi int64
	fmt.Sscan(fmt.Sprint(got[0]["lo"]), &lo)
	fmt.Sscan(fmt.Sprint(got[0]["hi"]), &hi)
	mu.Lock()
	want := steps[lo]
	mu.Unlock()
	t.Logf("ranges saw steps %d..%d (%v distinct); manifest GTID %s, binlog %s:%d", lo, hi, got[0]["n"], man.Source.GTIDPosition, man.Source.BinlogFile, man.Source.BinlogPos)
	if lo == hi {
		t.Fatalf("every range saw step %d: the writer did not commit while the sync read, nothing to tell apart", lo)
	}
	if man.Source.GTIDPosition != want || man.Source.BinlogFile == "" || man.Source.BinlogPos == 0 {
		t.Errorf("manifest GTID %q (binlog %s:%d), want %q: the GTID of step %d, what the earliest range snapshot saw",
			man.Source.GTIDPosition, man.Source.BinlogFile, man.Source.BinlogPos, want, lo)
	}
}
