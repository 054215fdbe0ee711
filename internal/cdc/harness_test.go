package cdc_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestMain removes the acode binary the process tests built and stops the
// shared PostgreSQL cluster the state-store tests use (without
// testenv.Main it ran on after every passing run).
func TestMain(m *testing.M) {
	testenv.Main(m, func() {
		if acodeBin != "" {
			os.RemoveAll(filepath.Dir(acodeBin))
		}
	})
}

// binlogArgs are the server settings a CDC reader needs (the sandbox
// already runs ROW format, GTID strict mode and log_slave_updates).
var binlogArgs = testenv.MariaDBOptions{Args: []string{"--binlog-row-image=FULL", "--binlog-row-metadata=FULL"}}

const cdcConnection = "connection_mysql_local_acode"

// cdcEnv is a primary, its GTID replica, the ACODE tables, and the example
// project's local connection switched to CDC, reading the replica.
type cdcEnv struct {
	primary, replica *testenv.MariaDB
	database         string
	project          *testenv.Project
}

func newCDCEnv(t *testing.T, cdcSettings ...string) *cdcEnv {
	t.Helper()
	e := startCDCServers(t)
	p := e.project
	p.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", `method: "STANDARD"`, `method: "CDC"`)
	p.Edit(t, "connections/"+cdcConnection+"/configuration.yaml",
		"sources/source_mysql_acode/configuration.yaml", "sources/source_mysql_acode_backup/configuration.yaml",
		"sync_mode: full_refresh", "sync_mode: incremental")
	writeSettings(t, p, "cdc:\n  read_from: primary\n", cdcSettings)
	return e
}

// newCDCPairEnv makes the local connection (on the primary's source, CDC)
// the primary of a failover pair whose backup reads the replica: its
// reader reads the replica (read_from backup) and has the primary to fall
// back on.
func newCDCPairEnv(t *testing.T, cdcSettings ...string) *cdcEnv {
	t.Helper()
	e := startCDCServers(t)
	p := e.project
	p.Edit(t, "sources/source_mysql_acode/configuration.yaml", `method: "STANDARD"`, `method: "CDC"`)
	p.Edit(t, "connections/"+cdcConnection+"/configuration.yaml", "sync_mode: full_refresh", "sync_mode: incremental")
	writeSettings(t, p, "failover:\n  pairs:\n    - primary: "+cdcConnection+"\n      backup: connection_mysql_s3_acode_backup\ncdc:\n  read_from: backup\n", cdcSettings)
	return e
}

func startCDCServers(t *testing.T) *cdcEnv {
	t.Helper()
	primary := testenv.StartMariaDB(t, binlogArgs)
	replica := testenv.StartReplica(t, primary, binlogArgs)
	e := &cdcEnv{primary: primary, replica: replica, database: "acode_cdc"}
	if err := demo.CreateSchema(context.Background(), primary.Root(t), e.database); err != nil {
		t.Fatal(err)
	}
	p := testenv.NewProject(t, primary, e.database, nil)
	primary.Exec(t, "GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	p.PointBackup(t, replica)
	replica.WaitReplicaCaughtUp(t, primary)
	e.project = p
	return e
}

// writeSettings writes acode.yaml: a small chunk_rows, the spool in the
// project, extra sections, then cdcSettings under cdc (which extra opens).
func writeSettings(t *testing.T, p *testenv.Project, extra string, cdcSettings []string) {
	t.Helper()
	body := "state_db: .acode/state.db\nsync:\n  spool_dir: spool\n  chunk_rows: 100\n" + extra
	for _, l := range cdcSettings {
		body += "  " + l + "\n"
	}
	if err := os.MkdirAll(filepath.Join(p.Dir, "spool"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// changeLogGlob is where a stream's change-log files are.
func (e *cdcEnv) changeLogGlob(table string) string {
	return filepath.Join(e.project.LocalRoot(), "origin=airbyte", "database=bronze_acode", table+"_cdc", "*", "*.parquet")
}

// writer changes the ACODE tables on the primary in small transactions of
// inserts, updates and deletes with unique keys, and remembers, for each
// transaction's GTID, how many rows it changed in each table.
type writer struct {
	db       *sql.DB
	database string
	rng      *rand.Rand

	mu      sync.Mutex
	changes map[string]map[string]int // gtid -> table -> rows changed
	live    []int64                   // diario ids not deleted
	next    int64
	// at, when set, is the commit time the transactions carry in the
	// binlog (SET TIMESTAMP): another day's partition.
	at time.Time
}

func newWriter(t *testing.T, primary *testenv.MariaDB, database string) *writer {
	return &writer{db: primary.Root(t), database: database, rng: rand.New(rand.NewPCG(1, 2)),
		changes: map[string]map[string]int{}, next: 1}
}

func (w *writer) q(table string) string { return "`" + w.database + "`.`" + table + "`" }

// step runs one transaction: two inserts into diario and one into
// complemento, an update of an older row, and every third step a delete.
func (w *writer) step(ctx context.Context) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !w.at.IsZero() {
		if _, err := conn.ExecContext(ctx, "SET TIMESTAMP = ?", w.at.Unix()); err != nil {
			return err
		}
		defer conn.ExecContext(context.Background(), "SET TIMESTAMP = DEFAULT") // the pool's next user gets the clock
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	counts := map[string]int{}
	exec := func(table, query string, args ...any) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
		n, _ := res.RowsAffected()
		counts[table] += int(n)
		return nil
	}
	w.mu.Lock()
	id := w.next
	w.next += 2
	w.mu.Unlock()
	for _, i := range []int64{id, id + 1} {
		if err := exec(demo.TableDiario, "INSERT INTO "+w.q(demo.TableDiario)+
			" (idpk, ACODE_Val_Total, CNPJ, Data, EAN, NF_Numero, Qtd_Trib) VALUES (?, ?, ?, ?, ?, ?, ?)",
			i, fmt.Sprintf("%d.%02d", w.rng.IntN(100000), w.rng.IntN(100)), fmt.Sprintf("%014d", w.rng.Int64N(1e14)),
			time.Date(2026, 11, 1+int(i%28), 0, 0, 0, 0, time.UTC).Format("2006-01-02"), fmt.Sprintf("789%010d", i), i*7, "1.2345"); err != nil {
			return err
		}
	}
	if err := exec(demo.TableComplemento, "INSERT INTO "+w.q(demo.TableComplemento)+
		" (idpk, idpk_analitico, Chave_NFe, Data_Emissao, Data_Autorizacao, Situacao, XML_Hash, Protocolo) VALUES (?, ?, ?, ?, ?, ?, UNHEX(SHA2(?, 256)), ?)",
		id, id, fmt.Sprintf("%044d", id), "2026-11-02 10:11:12", "2026-11-02 13:14:15", []string{"autorizada", "cancelada", "denegada"}[id%3],
		fmt.Sprint(id), uint64(1<<63)+uint64(id)); err != nil {
		return err
	}
	w.mu.Lock()
	var upd, del int64 = -1, -1
	if len(w.live) > 0 {
		upd = w.live[w.rng.IntN(len(w.live))]
	}
	if (id/2)%3 == 0 && len(w.live) > 1 {
		k := w.rng.IntN(len(w.live))
		del = w.live[k]
		if del == upd {
			del = -1
		} else {
			w.live = append(w.live[:k], w.live[k+1:]...)
		}
	}
	w.live = append(w.live, id, id+1)
	w.mu.Unlock()
	if upd >= 0 {
		if err := exec(demo.TableDiario, "UPDATE "+w.q(demo.TableDiario)+" SET ACODE_Val_Total = ACODE_Val_Total + 1, CNPJ = ? WHERE idpk = ?",
			fmt.Sprintf("%014d", w.rng.Int64N(1e14)), upd); err != nil {
			return err
		}
	}
	if del >= 0 {
		if err := exec(demo.TableDiario, "DELETE FROM "+w.q(demo.TableDiario)+" WHERE idpk = ?", del); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	var gtid string
	if err := conn.QueryRowContext(ctx, "SELECT @@last_gtid").Scan(&gtid); err != nil {
		return err
	}
	w.mu.Lock()
	w.changes[gtid] = counts
	w.mu.Unlock()
	return nil
}

// run steps until ctx ends or n steps are done, pausing between steps.
func (w *writer) run(ctx context.Context, n int, pause time.Duration) error {
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if err := w.step(ctx); err != nil {
			return err
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	return nil
}

// expected returns, for table, "gtid count" lines sorted, and the total,
// of the transactions after sequence number after.
func (w *writer) expected(table string, after uint64) ([]string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	total := 0
	for g, c := range w.changes {
		var d, srv, seq uint64
		fmt.Sscanf(g, "%d-%d-%d", &d, &srv, &seq)
		if c[table] > 0 && seq > after {
			out = append(out, fmt.Sprintf("%s %d", g, c[table]))
			total += c[table]
		}
	}
	sort.Strings(out)
	return out, total
}

// landed returns the change log's "gtid count" lines as DuckDB reads them
// (changes only: no backfill or retraction rows),
// with any (gtid, sequence) found twice reported by dups.
func landed(t *testing.T, duck *testenv.Duck, glob string) (lines []string, dups int64) {
	t.Helper()
	src := "read_parquet(" + testenv.SQLString(glob) + ", hive_partitioning=true, union_by_name=true)" // files before and after an ADD COLUMN
	res := duck.Run(t,
		"SELECT _acode_gtid AS g, count(*) AS n FROM "+src+" WHERE _acode_op NOT IN ('r', 'x') GROUP BY 1 ORDER BY 1",
		"SELECT count(*) - count(DISTINCT (_acode_gtid, _acode_txn_seq)) AS d FROM "+src+" WHERE _acode_op NOT IN ('r', 'x')")
	for _, r := range res[0].Rows {
		lines = append(lines, fmt.Sprintf("%v %v", r["g"], r["n"]))
	}
	sort.Strings(lines)
	fmt.Sscan(fmt.Sprint(res[1].Rows[0]["d"]), &dups)
	return lines, dups
}

// diff describes how got differs from want, "" when equal.
func diff(want, got []string) string {
	w := map[string]bool{}
	for _, s := range want {
		w[s] = true
	}
	g := map[string]bool{}
	var b strings.Builder
	for _, s := range got {
		g[s] = true
		if !w[s] {
			fmt.Fprintf(&b, "unexpected %s; ", s)
		}
	}
	for _, s := range want {
		if !g[s] {
			fmt.Fprintf(&b, "missing %s; ", s)
		}
	}
	return b.String()
}

// poll calls cond until it returns true or the deadline passes.
func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
