package syncer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/mysqldriver"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage/file"
	"github.com/acode-dev/acode/internal/testenv"
)

// dropAfter drops the diario table once its stream has read rows rows;
// the channel closes when the table is gone.
func dropAfter(t *testing.T, m *testenv.MariaDB, database string, progress *Progress, rows int64) <-chan struct{} {
	dropped := make(chan struct{})
	go func() {
		defer close(dropped)
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			for _, s := range progress.Streams() {
				if s.Name == diario && s.Rows() > rows {
					if _, err := m.Root(t).Exec("DROP TABLE `" + database + "`.`" + diario + "`"); err != nil {
						t.Errorf("drop %s: %v", diario, err)
					}
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Errorf("%s never read %d rows", diario, rows)
	}()
	return dropped
}

// A table dropped in the middle of a job fails its stream alone: the
// other streams commit, the job is failed and names the stream, and every
// stream is listed with its status. A retry runs only the failed stream
// and resumes the ranges its first attempt uploaded.
func TestSync_AFailingStreamSparesTheOthersAndTheRetryRunsOnlyIt(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 40000)
	want := count(t, m.Root(t), database, diario)
	m.Exec(t, "CREATE TABLE `"+database+"`.diario_copy LIKE `"+database+"`.`"+diario+"`",
		"INSERT INTO `"+database+"`.diario_copy SELECT * FROM `"+database+"`.`"+diario+"`")
	restore := func() {
		m.Exec(t, "CREATE TABLE `"+database+"`.`"+diario+"` LIKE `"+database+"`.diario_copy",
			"INSERT INTO `"+database+"`.`"+diario+"` SELECT * FROM `"+database+"`.diario_copy")
	}
	f := newFixture(t, m, database, nil)
	// About 15k rows fill 1 MiB: parts are uploaded well before the drop.
	f.Settings(t, "chunk_rows: 1000", "file_size_mb: 1", "max_rows_per_second: 20000", "max_parallel_reads: 2")
	conn := "connection_mysql_local_acode"
	duck := testenv.DuckDB(t)
	rowsIn := func(partition string) string {
		got := duck.Query(t, "SELECT count(*)::VARCHAR AS n FROM read_parquet("+testenv.SQLString(filepath.Join(f.LocalRoot(), partition, "*.parquet"))+")")
		return got[0]["n"].(string)
	}

	// One attempt: diario fails, the others commit.
	progress := NewProgress()
	dropAfter(t, m, database, progress, 20000)
	res, err := f.run(t, conn, Options{Progress: progress})
	var se *StreamsError
	var me *mysqldriver.MySQLError
	if !errors.As(err, &se) || len(se.Failed) != 1 || se.Failed[0] != diario || !errors.As(err, &me) || me.Number != 1146 {
		t.Fatalf("want a StreamsError naming %s alone with MySQL error 1146, got %v", diario, err)
	}
	if res.Status != "failed" || len(res.Streams) != 3 {
		t.Fatalf("job %s with %d streams, want failed with 3", res.Status, len(res.Streams))
	}
	for _, s := range res.Streams {
		switch {
		case s.Name == "":
			t.Errorf("a stream without a name: %+v", s)
		case s.Name == diario:
			if s.Status != StreamFailed || s.Error == "" {
				t.Errorf("%s: %s (%q), want failed with its error", s.Name, s.Status, s.Error)
			}
		default:
			wantRows := count(t, m.Root(t), database, s.Name)
			if s.Status != StreamCommitted || s.Rows != wantRows || rowsIn(s.Partition) != fmt.Sprint(wantRows) {
				t.Errorf("%s: %s with %d rows, want committed with %d", s.Name, s.Status, s.Rows, wantRows)
			}
		}
	}
	st, err := state.Open(context.Background(), f.project(t).Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recorded, err := st.StreamResults(context.Background(), res.JobID)
	if err != nil || len(recorded) != 3 {
		t.Fatalf("the store lists %d streams of the job (%v), want 3", len(recorded), err)
	}
	for _, r := range recorded {
		if wantStatus := map[bool]StreamStatus{true: StreamFailed, false: StreamCommitted}[r.Stream == diario]; r.Status != string(wantStatus) {
			t.Errorf("stored %s: %s, want %s", r.Stream, r.Status, wantStatus)
		}
	}

	// Two attempts: the table is back for the second, which reads only
	// diario's ranges the first did not upload.
	restore()
	progress = NewProgress()
	dropped := dropAfter(t, m, database, progress, 20000)
	sleep := func(context.Context, time.Duration) error { <-dropped; restore(); return nil }
	res, err = f.run(t, conn, Options{Progress: progress, MaxAttempts: 2, Sleep: sleep})
	if err != nil || res.Attempts != 2 {
		t.Fatalf("retried job: %d attempts, err %v; want success on the second", res.Attempts, err)
	}
	store, err := file.New(f.LocalRoot())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Streams {
		m, err := snapshot.ReadManifest(context.Background(), store, s.Manifest)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		wantAttempt := 1
		if s.Name == diario {
			wantAttempt = 2
			if s.RangesResumed == 0 {
				t.Errorf("the retry re-read every range of %s", diario)
			}
			if got := rowsIn(s.Partition); got != fmt.Sprint(want) {
				t.Errorf("%s after the retry: %s rows, want %d", diario, got, want)
			}
		}
		if m.Attempt != wantAttempt {
			t.Errorf("%s committed by attempt %d, want %d (only the failed stream runs again)", s.Name, m.Attempt, wantAttempt)
		}
	}
}

// A value a column's Parquet type cannot hold (2 in a TINYINT(1) made
// BOOLEAN by sync.columns) fails that stream alone, naming the column; the
// other streams commit.
func TestSync_ABadValueFailsItsStreamAlone(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 2000)
	const produtos = "farmarcas_si_analitico_diario_produtos"
	m.Exec(t, "ALTER TABLE `"+database+"`.`"+produtos+"` ADD COLUMN ativo TINYINT(1) NOT NULL DEFAULT 1",
		"UPDATE `"+database+"`.`"+produtos+"` SET ativo = 2 ORDER BY idpk LIMIT 1")
	f := newFixture(t, m, database, nil)
	f.Settings(t, "columns:", "  "+produtos+".ativo: boolean")
	res, err := f.run(t, "connection_mysql_local_acode", Options{})
	var se *StreamsError
	if !errors.As(err, &se) || len(se.Failed) != 1 || se.Failed[0] != produtos || !strings.Contains(err.Error(), "ativo") {
		t.Fatalf("want the job to fail on %s's ativo alone, got %v", produtos, err)
	}
	for _, s := range res.Streams {
		want := StreamCommitted
		if s.Name == produtos {
			want = StreamFailed
		}
		if s.Status != want {
			t.Errorf("%s: %s (%s), want %s", s.Name, s.Status, s.Error, want)
		}
	}
}
