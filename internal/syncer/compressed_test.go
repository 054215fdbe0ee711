package syncer

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestSync_CompressedReadsShrinkWhatTheServerSends syncs one table with
// none, one and both of its two range readers on the protocol's
// compression (sync.compressed_reads), on a server of its own so that its
// Bytes_sent counts these syncs alone: each run writes every row, and
// the server sends less the more readers compress. With one core a stream
// has one reader (readWorkers), so compressed_reads 1 is then all of them.
func TestSync_CompressedReadsShrinkWhatTheServerSends(t *testing.T) {
	t.Parallel()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	ctx := context.Background()
	root := m.Root(t)
	const database, rows = "acode", 20000
	if err := demo.CreateSchema(ctx, root, database); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Fill(ctx, root, database, demo.Options{Rows: rows, Seed: 7, Days: 3, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, m, database, nil)
	sent := func() int64 {
		var name string
		var n int64
		if err := root.QueryRow("SHOW GLOBAL STATUS LIKE 'Bytes_sent'").Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var bytes [3]int64
	for compressed := range 3 {
		f.Settings(t, "chunk_rows: 1000", "max_parallel_reads: 2", "parallel_streams: 1", fmt.Sprintf("compressed_reads: %d", compressed))
		before := sent()
		res, err := f.run(t, "connection_mysql_local_acode", Options{})
		if err != nil {
			t.Fatalf("compressed_reads %d: sync: %v", compressed, err)
		}
		bytes[compressed] = sent() - before
		if s := res.Streams[0]; s.Name != diario || s.Rows != rows || s.Status != "committed" {
			t.Fatalf("compressed_reads %d: %s %s with %d rows, want %s committed with %d", compressed, s.Name, s.Status, s.Rows, diario, rows)
		}
	}
	t.Logf("server Bytes_sent with 0, 1, 2 compressed readers: %v", bytes)
	if bytes[2] > bytes[0]/2 {
		t.Errorf("server sent %v bytes with 0, 1, 2 compressed readers; want under half with every reader compressed", bytes)
	}
	if runtime.GOMAXPROCS(0) >= 2 && !(bytes[0] > bytes[1] && bytes[1] > bytes[2]) {
		t.Errorf("server sent %v bytes with 0, 1, 2 of 2 readers compressed; want less with each", bytes)
	}
}
