package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"
)

// fillStore writes at least one row into every table through the API, the
// way acode does, and returns the ids of the two jobs of a failover chain.
func fillStore(t *testing.T, s *Store) (first, second int64) {
	t.Helper()
	ctx := context.Background()
	a := mustJob(t, s, "conn_a")
	if _, err := s.StartAttempt(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.RecordPart(ctx, Part{JobID: a.ID, Stream: "users", Partition: "2025-08-07", Key: "k/0.parquet", Ranges: []int{0, 1}, Rows: 10, Bytes: 100, SHA256: "ab", SourceRows: 10}))
	must(s.SavePlan(ctx, a.ID, "users", []byte(`{"ranges":[[0,5],[5,10]]}`)))
	must(s.QueueRanges(ctx, a.ID, "users", "source_mysql", 2, 1, []int{0, 1}))
	must(s.SaveStreamResult(ctx, StreamResult{JobID: a.ID, Stream: "users", Partition: "2025-08-07", Status: "failed", Rows: 10, Files: []string{"k/0.parquet"}, StartedAt: time.Now(), Error: "primary lost"}))
	must(s.FinishJob(ctx, a.ID, JobFailed, "primary lost", 10, 100))
	b, err := s.CreateJob(ctx, "conn_a", "backup", "h:2")
	must(err)
	must(s.ContinueJob(ctx, a.ID, b.ID))
	must(s.FinishJob(ctx, b.ID, JobSucceeded, "", 20, 200))
	must(s.SetCursor(ctx, Cursor{Connection: "conn_a", Stream: "users", Field: []string{"updated_at"}, Value: "2025-08-07 01:02:03", RecordCount: 2, JobID: b.ID}))
	must(s.RecordCommit(ctx, Commit{Connection: "conn_a", Stream: "users", Partition: "2025-08-07", JobID: b.ID, ManifestKey: "m.json", Rows: 20, Bytes: 200, Files: 1, Source: "backup", Status: CommitCommitted, CommittedAt: time.Now()}))
	must(s.RecordHealth(ctx, []HealthRecord{{Check: "mysql_connectivity", Target: "src", Status: "critical", Message: "refused"}, {Check: "replication_lag", Target: "bak", Status: "ok", Value: "0"}}))
	yes := true
	_, err = s.UpdateFailover(ctx, "conn_a", FailoverState{State: "primary_active"}, func(st *FailoverState) ([]FailoverTransition, error) {
		st.State, st.Manual, st.BackupReplicating, st.Failures = "backup_active", true, &yes, 3
		return []FailoverTransition{{From: "primary_active", To: "backup_active", Who: "auto", Reason: "primary down", Class: "connect"}}, nil
	})
	must(err)
	_, err = s.RecordAlert(ctx, AlertRecord{Condition: "sync_failing/conn_a", Severity: "critical", Event: "raised", Sink: "slack", Status: AlertSent})
	must(err)
	must(s.SaveAlertCondition(ctx, AlertCondition{Key: "sync_failing/conn_a", Severity: "critical", Since: time.Now(), Paged: true, Details: `{"m":1}`}))
	must(s.SetScheduleFire(ctx, "conn_a", time.Now()))
	must(s.SeeReplica(ctx, "h:1", "127.0.0.1:8001"))
	must(s.SaveQualityReport(ctx, QualityReport{JobID: b.ID, Connection: "conn_a", Stream: "users", Partition: "2025-08-07", Status: "committed", Score: 0.975, Report: []byte(`{}`), Stats: []byte(`{}`)}))
	must(s.RecordTableSizes(ctx, []TableSize{{Source: "src_a", Schema: "db", Table: "users", MeasuredAt: time.Date(2025, 8, 4, 8, 0, 0, 0, time.UTC), Rows: 42, DataLength: 16384}}))
	return a.ID, b.ID
}

// dumpTable reads every row of table as text, in id order.
func dumpTable(t *testing.T, s *Store, table string) [][]string {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), `SELECT * FROM `+table+` ORDER BY 1, 2`)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	sort.Strings(cols) // compare by name: the column order may differ between engines
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		got, _ := rows.Columns()
		row := make(map[string]string, len(cols))
		for i, c := range got {
			row[c] = fmt.Sprint(vals[i])
		}
		line := make([]string, 0, len(cols))
		for _, c := range cols {
			line = append(line, c+"="+row[c])
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCopy_SQLiteToPostgresKeepsEveryRowAndID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := backends[0].open(t)
	first, second := fillStore(t, src)
	dst := backends[1].open(t)

	counts, err := Copy(ctx, src, dst)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if len(counts) != len(copyTables) {
		t.Errorf("Copy reported %d tables, want %d", len(counts), len(copyTables))
	}
	for _, c := range counts {
		if c.Rows == 0 {
			t.Errorf("table %s: no row copied; the fixture writes one into every table", c.Table)
		}
		if a, b := dumpTable(t, src, c.Table), dumpTable(t, dst, c.Table); !reflect.DeepEqual(a, b) {
			t.Errorf("table %s differs after the copy:\nsqlite:   %v\npostgres: %v", c.Table, a, b)
		}
	}
	chain, err := dst.JobChain(ctx, first)
	if err != nil || len(chain) != 2 || chain[1].ID != second || chain[1].Status != JobSucceeded {
		t.Errorf("JobChain(%d) on the copy = %+v, %v; want the failover chain to job %d", first, chain, err, second)
	}
	st, err := dst.FailoverState(ctx, "conn_a")
	if err != nil || st.State != "backup_active" || !st.Manual || st.BackupReplicating == nil || !*st.BackupReplicating {
		t.Errorf("failover state on the copy = %+v, %v", st, err)
	}
	next := mustJob(t, dst, "conn_b")
	if next.ID <= second {
		t.Errorf("a new job on the copy got id %d, want one after the copied %d", next.ID, second)
	}
	if _, err := Copy(ctx, src, dst); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("a second Copy into the same database: err = %v, want ErrNotEmpty", err)
	}
}

func TestCopy_RefusesASourceWithARunningJob(t *testing.T) {
	t.Parallel()
	src := backends[0].open(t)
	mustJob(t, src, "conn_a")
	dst := backends[1].open(t)
	if _, err := Copy(context.Background(), src, dst); err == nil {
		t.Fatal("Copy went ahead while a job heartbeats on the source")
	}
	if n := len(dumpTable(t, dst, "jobs")); n != 0 {
		t.Errorf("a refused copy left %d jobs in the destination", n)
	}
}

func TestCopyTables_NameEveryTableOfTheSchema(t *testing.T) {
	t.Parallel()
	s := backends[0].open(t)
	rows, err := s.db.QueryContext(context.Background(), `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	want := append([]string{}, copyTables...)
	sort.Strings(want)
	if !reflect.DeepEqual(tables, want) {
		t.Errorf("schema tables %v, copyTables %v: a table `acode state copy` would not move", tables, want)
	}
}

// The monthly state backup: PostgreSQL into a new SQLite file, which opens
// with the same jobs; a running job or an existing file refuse, leaving
// nothing behind.
func TestCopyToFile_PostgresIntoANewSQLiteFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := backends[1].open(t)
	j := mustJob(t, src, "conn_a")
	dir := t.TempDir()
	busy := filepath.Join(dir, "busy.db")
	if err := CopyToFile(ctx, src, busy); !errors.Is(err, ErrJobRunning) {
		t.Fatalf("copy while a job heartbeats: %v, want ErrJobRunning", err)
	}
	if _, err := os.Stat(busy); err == nil {
		t.Error("a refused copy left its file")
	}
	if err := src.FinishJob(ctx, j.ID, JobSucceeded, "", 0, 0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dr.db")
	if err := CopyToFile(ctx, src, path); err != nil {
		t.Fatal(err)
	}
	if err := CopyToFile(ctx, src, path); err == nil {
		t.Error("copied over an existing file")
	}
	dr, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer dr.Close()
	if got, err := dr.Job(ctx, j.ID); err != nil || got.Status != JobSucceeded {
		t.Errorf("job in the copy %+v, %v", got, err)
	}
}
