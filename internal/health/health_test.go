package health_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func opener(m *testenv.MariaDB, database string) health.Opener {
	return func(ctx context.Context) (*sql.DB, error) {
		return mysql.Open(ctx, mysql.ConnConfig{Host: m.Host, Port: m.Port, Database: database, User: "root",
			TLSMode: mysql.TLSDisabled, ConnectTimeout: 2 * time.Second})
	}
}

func TestReplicationLag_StoppedReplicaIsCriticalAndDeadPrimaryShowsConnecting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	replica := testenv.StartReplica(t, primary)
	now := time.Now()

	// A fresh replica may still be applying the primary's first events: a
	// few seconds behind is ok, what matters is a running, measured lag.
	replica.WaitReplicaCaughtUp(t, primary)
	r := health.ReplicationLag(ctx, replica.Root(t), "backup", 5*time.Minute, 10*time.Minute, now)
	if r.Status != failure.OK || !strings.HasSuffix(r.Value, "s") || r.Replica == nil || !r.Replica.Running() {
		t.Fatalf("running replica: %+v", r)
	}
	notReplica := health.ReplicationLag(ctx, primary.Root(t), "primary", 5*time.Minute, 10*time.Minute, now)
	if notReplica.Status != failure.Critical || !strings.Contains(notReplica.Message, "does not replicate") {
		t.Errorf("a server that is no replica: %+v", notReplica)
	}

	replica.Exec(t, "STOP SLAVE")
	r = health.ReplicationLag(ctx, replica.Root(t), "backup", 5*time.Minute, 10*time.Minute, now)
	if r.Status != failure.Critical || r.Value != "unknown" ||
		!strings.Contains(r.Message, "replication is not running: IO thread No, SQL thread No") || r.Replica.Connecting() {
		t.Errorf("stopped replica: %+v", r)
	}

	replica.Exec(t, "START SLAVE")
	primary.Kill(t)
	conn, db := health.Connectivity(ctx, "primary", 3*time.Second, opener(primary, ""), now)
	if conn.Status != failure.Critical || db != nil || !errors.Is(conn.Err, syscall.ECONNREFUSED) ||
		!strings.Contains(conn.Message, "cannot connect") {
		t.Errorf("killed primary: %+v", conn)
	}
	// The IO thread reports 2013 or 2003 (CR_CONN_HOST_ERROR) while it retries.
	deadline := time.Now().Add(20 * time.Second)
	for {
		r = health.ReplicationLag(ctx, replica.Root(t), "backup", 5*time.Minute, 10*time.Minute, now)
		if r.Replica != nil && r.Replica.IORunning == "Connecting" && r.Replica.LastIOErrno != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica of a dead primary never showed IO Connecting with an error: %+v %+v", r, r.Replica)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.Status != failure.Critical || !r.Replica.Connecting() || r.Replica.SecondsBehind != nil ||
		!strings.Contains(r.Message, "IO thread Connecting, SQL thread Yes; last IO error 20") {
		t.Errorf("replica of a dead primary: %+v %+v", r, r.Replica)
	}
}

func TestConnectivity_OKReturnsAnOpenPool(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	r, db := health.Connectivity(context.Background(), "src", 5*time.Second, opener(m, ""), time.Now())
	if r.Status != failure.OK || db == nil || r.Err != nil {
		t.Fatalf("healthy server: %+v", r)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Errorf("returned pool unusable: %v", err)
	}
}

func TestFreshness_GradesTheNewestRowsAge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.SharedMariaDB(t)
	dbName := m.NewDatabase(t)
	m.Exec(t, "CREATE TABLE `"+dbName+"`.diario (id INT PRIMARY KEY, Data_Processamento DATE, Processado_Em DATETIME(6))",
		"INSERT INTO `"+dbName+"`.diario VALUES (1, '2025-08-06', '2025-08-06 10:00:00'), (2, '2025-08-07', '2025-08-07 09:30:00.5')",
		"CREATE TABLE `"+dbName+"`.empty (Data_Processamento DATE)")
	db := m.Root(t)
	day := func(col string) health.FreshnessQuery {
		return health.FreshnessQuery{Database: dbName, Table: "diario", Column: col, Warning: 12 * time.Hour, Critical: 24 * time.Hour}
	}
	saoPaulo, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Fatal(err)
	}
	brt := day("Data_Processamento")
	brt.Location = saoPaulo
	utc := func(s string) time.Time {
		ts, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	for _, c := range []struct {
		name  string
		q     health.FreshnessQuery
		now   string
		want  failure.Severity
		value string
	}{
		{"a DATE of today is fresh all day", day("Data_Processamento"), "2025-08-07 23:00:00", failure.OK, "0s"},
		{"13 h after the day ended", day("Data_Processamento"), "2025-08-08 13:00:00", failure.Warning, "13h0m0s"},
		{"25 h after the day ended", day("Data_Processamento"), "2025-08-09 01:00:00", failure.Critical, "25h0m0s"},
		{"the day ends at midnight in the source's zone", brt, "2025-08-08 13:00:00", failure.OK, "10h0m0s"},
		{"DATETIME as it is", day("Processado_Em"), "2025-08-07 22:00:00", failure.Warning, "12h30m0s"},
	} {
		r := health.Freshness(ctx, db, "src", c.q, utc(c.now))
		if r.Status != c.want || r.Value != c.value || r.Check != health.CheckFreshness {
			t.Errorf("%s: got %s %q (%s), want %s %q", c.name, r.Status, r.Value, r.Message, c.want, c.value)
		}
	}
	empty := day("Data_Processamento")
	empty.Table = "empty"
	if r := health.Freshness(ctx, db, "src", empty, time.Now()); r.Status != failure.Critical || !strings.Contains(r.Message, "empty") {
		t.Errorf("empty table: %+v", r)
	}
	missing := day("Data_Processamento")
	missing.Table = "no_such_table"
	if r := health.Freshness(ctx, db, "src", missing, time.Now()); r.Status != failure.Critical || r.Err == nil {
		t.Errorf("missing table: %+v", r)
	}
}
