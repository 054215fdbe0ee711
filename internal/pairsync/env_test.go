package pairsync

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

const (
	primaryConn = "connection_mysql_s3_acode"
	backupConn  = "connection_mysql_s3_acode_backup"
	diario      = "farmarcas_si_analitico_diario"
)

// clock is the fake time of the machines and of job retries: backoff waits
// of 5, 10 and 20 minutes pass at once.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.t = c.t.Add(d)
	return nil
}

func (c *clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// env is the example project on a real MariaDB primary (optionally behind
// toxiproxy) and its binlog replica, both connections writing to one
// versitygw bucket.
type env struct {
	t        *testing.T
	ctx      context.Context
	primary  *testenv.MariaDB
	replica  *testenv.MariaDB
	proxy    *testenv.ToxiProxy
	s3       *testenv.S3Server
	project  *testenv.Project
	database string
	clock    *clock
	st       *state.Store
	o        *Orchestrator
	rows     int64
}

type envOptions struct {
	rows     int    // rows of farmarcas_si_analitico_diario
	viaProxy bool   // the primary source goes through toxiproxy
	settings string // acode.yaml lines appended to the defaults below
}

const baseSettings = `state_db: .acode/state.db
sync:
  chunk_rows: 500
  file_size_mb: 1
  connect_timeout: 2s
  read_timeout: 10s
%s
health:
  connect_timeout: 1s
  query_timeout: 5s
failover:
  backoff_jitter: 0
jobs:
  retries: %s
  retry_delay: 1m
`

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.rows == 0 {
		o.rows = 3000
	}
	e := &env{t: t, ctx: context.Background(), clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	e.primary = testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	e.replica = testenv.StartReplica(t, e.primary)
	e.s3 = testenv.StartS3(t)
	e.database = "acode_" + strconv.Itoa(e.primary.Port)
	root := e.primary.Root(t)
	if err := demo.CreateSchema(e.ctx, root, e.database); err != nil {
		t.Fatal(err)
	}
	counts, err := demo.Fill(e.ctx, root, e.database, demo.Options{Rows: o.rows, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	e.rows = counts.Diario
	p := testenv.NewProject(t, e.primary, e.database, e.s3)
	e.project = p
	e.primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	p.PointBackup(t, e.replica)
	if o.viaProxy {
		e.proxy = testenv.StartToxiproxy(t).Proxy(t, "primary", e.primary.Addr())
		p.Edit(t, "sources/source_mysql_acode/configuration.yaml",
			"port: "+strconv.Itoa(e.primary.Port), "port: "+strconv.Itoa(e.proxy.Port))
	}
	e.writeSettings(o.settings, "1")
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	e.open()
	return e
}

// writeSettings rewrites acode.yaml: syncExtra goes in the sync section.
func (e *env) writeSettings(syncExtra, retries string) {
	e.t.Helper()
	body := fmt.Sprintf(baseSettings, syncExtra, retries)
	if err := os.WriteFile(filepath.Join(e.project.Dir, config.SettingsFile), []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// open loads the project and opens the state store with a new
// Orchestrator, as a freshly started acode would.
func (e *env) open() {
	e.t.Helper()
	p, err := config.Load(e.project.Dir, e.project.Lookup)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := state.Open(e.ctx, p.Settings.StateDB)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	e.st = st
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.o = &Orchestrator{Project: p, State: st, Log: log, Now: e.clock.Now, Sleep: e.clock.Sleep,
		MachineOptions: []failover.Option{failover.WithClock(e.clock.Now)}}
}

func (e *env) run(opts Options) (*Report, error) {
	e.t.Helper()
	return e.o.Run(e.ctx, primaryConn, opts)
}

// healthy runs one health round with both servers up, so the machine has
// measured the replica (the serve loop does this every 5 minutes).
func (e *env) healthy() {
	e.t.Helper()
	pair, err := e.o.Pair(primaryConn)
	if err != nil {
		e.t.Fatal(err)
	}
	round, err := e.o.HealthRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, x := range round.Decisions {
		if x.Pair == pair.Primary && x.Sync != primaryConn {
			e.t.Fatalf("healthy round: %+v", x)
		}
	}
}

func (e *env) state() failover.State {
	e.t.Helper()
	pair, _ := e.o.Pair(primaryConn)
	d, err := e.o.Machine(pair).Decide(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.State
}

// partitionGlob is the files of stream's partition of the primary's layout
// on the S3 server's disk, as a reader of the bronze prefix sees it.
func (e *env) partitionDir(partition string) string {
	return e.s3.ObjectPath(e.project.Bucket, partition)
}

// checkComplete reads the partition with DuckDB and compares it row for
// row with the table as src serves it: every primary key exactly once,
// every value equal.
func (e *env) checkComplete(partition string, src *testenv.MariaDB) {
	e.t.Helper()
	dir := e.partitionDir(partition)
	entries, err := os.ReadDir(dir)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, en := range entries {
		if !strings.HasSuffix(en.Name(), ".parquet") && !strings.HasPrefix(en.Name(), "_") {
			e.t.Errorf("unexpected file in the partition: %s", en.Name())
		}
	}
	cols := "idpk, ACODE_Val_Total, CNPJ, Data, EAN, NF_Numero"
	got := testenv.DuckDB(e.t).Query(e.t, fmt.Sprintf(
		"SELECT CAST(idpk AS VARCHAR) AS k, concat_ws('|', %s) AS v FROM read_parquet(%s)",
		cols, testenv.SQLString(dir+"/*.parquet")))
	seen := map[string]string{}
	for _, r := range got {
		k := fmt.Sprint(r["k"])
		if _, dup := seen[k]; dup {
			e.t.Errorf("primary key %s more than once in %s", k, partition)
		}
		seen[k] = fmt.Sprint(r["v"])
	}
	rows, err := src.Root(e.t).QueryContext(e.ctx, fmt.Sprintf("SELECT idpk, concat_ws('|', %s) FROM %s.%s", cols, e.database, diario))
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	n, bad := 0, []string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			e.t.Fatal(err)
		}
		n++
		if seen[k] != v {
			bad = append(bad, fmt.Sprintf("%s: table %q, files %q", k, v, seen[k]))
		}
	}
	if n != len(seen) || len(bad) > 0 {
		sort.Strings(bad)
		e.t.Errorf("%s: %d rows in the table, %d keys in the files; %d differ, e.g. %v", partition, n, len(seen), len(bad), first(bad, 3))
	}
}

func first(xs []string, n int) []string { return xs[:min(n, len(xs))] }

func transitionsTo(r *Report) []string {
	var out []string
	for _, d := range r.Decisions {
		if d.Transition != nil {
			out = append(out, d.Transition.To+"("+d.Transition.Class+")")
		}
	}
	return out
}

// TestMain runs up to 4 of these tests at once: they mostly wait on the
// servers they start, not on the CPU.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		_ = f.Value.Set(strconv.Itoa(max(4, runtime.GOMAXPROCS(0))))
	}
	os.Exit(m.Run())
}
