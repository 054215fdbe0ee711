package failure_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/mysqldriver"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// connConfig reaches database on host:port as user, plain text, with short
// timeouts so failure tests stay fast.
func connConfig(host string, port int, database, user, pass string) mysql.ConnConfig {
	return mysql.ConnConfig{Host: host, Port: port, Database: database, User: user, Password: pass,
		TLSMode: mysql.TLSDisabled, ConnectTimeout: 3 * time.Second}
}

// openErr returns the error of connecting and running SELECT 1, the
// health check's probe.
func openErr(ctx context.Context, cfg mysql.ConnConfig) error {
	db, err := mysql.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestClassify_RealServerErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.SharedMariaDB(t)
	dbName := m.NewDatabase(t)
	m.Exec(t, "CREATE TABLE `"+dbName+"`.t (id INT PRIMARY KEY)")
	suffix := strconv.Itoa(os.Getpid())
	m.CreateUser(t, "cls_ok"+suffix, "right", false, "SELECT ON `"+dbName+"`.*")
	m.CreateUser(t, "cls_nogrant"+suffix, "right", false)
	m.CreateUser(t, "cls_expired"+suffix, "right", false, "SELECT ON `"+dbName+"`.*")
	m.Exec(t, "ALTER USER 'cls_expired"+suffix+"'@'%' PASSWORD EXPIRE")
	t.Cleanup(func() {
		for _, u := range []string{"cls_ok", "cls_nogrant", "cls_expired"} {
			_, _ = m.Root(t).Exec("DROP USER IF EXISTS '" + u + suffix + "'@'%'")
		}
	})
	root, err := mysql.Open(ctx, connConfig(m.Host, m.Port, dbName, "root", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	queryErr := func(q string) error {
		rows, err := root.QueryContext(ctx, q)
		if err == nil {
			rows.Close()
		}
		return err
	}
	_, discoverErr := mysql.Discover(ctx, root, dbName, []string{"farmarcas_si_analitico_diario"})

	cases := []struct {
		name string
		err  error
		want failure.Class
	}{
		{"wrong password", openErr(ctx, connConfig(m.Host, m.Port, dbName, "cls_ok"+suffix, "wrong")), failure.ClassAuthenticationFailed},
		{"no grant on database", openErr(ctx, connConfig(m.Host, m.Port, dbName, "cls_nogrant"+suffix, "right")), failure.ClassAuthenticationFailed},
		{"expired password", openErr(ctx, connConfig(m.Host, m.Port, dbName, "cls_expired"+suffix, "right")), failure.ClassAuthenticationFailed},
		{"closed port", openErr(ctx, connConfig("127.0.0.1", closedPort(t), dbName, "root", "")), failure.ClassPrimaryDBDown},
		{"missing table", queryErr("SELECT * FROM no_such_table"), failure.ClassSchemaChange},
		{"dropped column", queryErr("SELECT no_such_column FROM t"), failure.ClassSchemaChange},
		{"discover missing table", discoverErr, failure.ClassSchemaChange},
		{"syntax error", queryErr("SELEC 1"), failure.ClassUnknown},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: the server returned no error", c.name)
			continue
		}
		if got := failure.Classify(c.err); got != c.want {
			t.Errorf("%s: failure.Classify(%T %v) = %q, want %q", c.name, c.err, c.err, got, c.want)
		}
	}
}

func TestClassify_ServerKilledMidQueryIsNetworkPartition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	db, err := mysql.Open(ctx, connConfig(m.Host, m.Port, "", "root", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	done := make(chan error, 1)
	go func() {
		var x int
		done <- db.QueryRowContext(ctx, "SELECT SLEEP(30)").Scan(&x)
	}()
	waitForQuery(t, m, "SELECT SLEEP(30)")
	m.Kill(t)
	select {
	case err := <-done:
		if got := failure.Classify(err); got != failure.ClassNetworkPartition {
			t.Errorf("query cut by kill -9: failure.Classify(%T %v) = %q, want network_partition", err, err, got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("query did not fail after the server was killed")
	}
	// The dead server's port now refuses connections.
	if got := failure.Classify(openErr(ctx, connConfig(m.Host, m.Port, "", "root", ""))); got != failure.ClassPrimaryDBDown {
		t.Errorf("connecting to the killed server: class %q, want primary_db_down", got)
	}
}

// waitForQuery waits until the server's process list shows info.
func waitForQuery(t *testing.T, m *testenv.MariaDB, info string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := m.Root(t).QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = ?", info).Scan(&n)
		if err == nil && n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("query %q never started", info)
}

func TestClassify_ToxiproxyFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.SharedMariaDB(t)
	tp := testenv.StartToxiproxy(t)

	t.Run("latency beyond the deadline", func(t *testing.T) {
		p := tp.Proxy(t, "latency", m.Addr())
		p.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 3000})
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		err := openErr(cctx, connConfig(p.Host, p.Port, "", "root", ""))
		if got := failure.Classify(err); got != failure.ClassConnectionTimeout {
			t.Errorf("failure.Classify(%T %v) = %q, want connection_timeout", err, err, got)
		}
	})
	t.Run("stalled handshake beyond the connect timeout", func(t *testing.T) {
		p := tp.Proxy(t, "stall", m.Addr())
		p.AddToxic(t, "hang", "timeout", "downstream", map[string]any{"timeout": 0})
		cfg := connConfig(p.Host, p.Port, "", "root", "")
		cfg.ConnectTimeout = 500 * time.Millisecond
		// The driver bounds only the dial by ConnectTimeout; a handshake
		// that never answers is bounded by the caller's context.
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err := openErr(cctx, cfg)
		t.Logf("stalled handshake: %T %v -> %s", err, err, failure.Classify(err))
		if got := failure.Classify(err); got != failure.ClassConnectionTimeout && got != failure.ClassNetworkPartition {
			t.Errorf("failure.Classify(%T %v) = %q, want connection_timeout or network_partition", err, err, got)
		}
	})
	t.Run("reset peer", func(t *testing.T) {
		p := tp.Proxy(t, "reset", m.Addr())
		p.AddToxic(t, "rst", "reset_peer", "upstream", map[string]any{"timeout": 0})
		err := openErr(ctx, connConfig(p.Host, p.Port, "", "root", ""))
		if got := failure.Classify(err); got != failure.ClassNetworkPartition {
			t.Errorf("failure.Classify(%T %v) = %q, want network_partition", err, err, got)
		}
	})
	t.Run("proxy disabled mid-query", func(t *testing.T) {
		p := tp.Proxy(t, "cut", m.Addr())
		db, err := mysql.Open(ctx, connConfig(p.Host, p.Port, "", "root", ""))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		done := make(chan error, 1)
		go func() {
			var x int
			done <- db.QueryRowContext(ctx, "SELECT SLEEP(20)").Scan(&x)
		}()
		waitForQuery(t, m, "SELECT SLEEP(20)")
		p.SetEnabled(t, false)
		select {
		case err := <-done:
			if got := failure.Classify(err); got != failure.ClassNetworkPartition {
				t.Errorf("failure.Classify(%T %v) = %q, want network_partition", err, err, got)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("query did not fail after the proxy was cut")
		}
	})
}

func TestClassify_ConstructedTypedErrors(t *testing.T) {
	t.Parallel()
	dial := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	cases := []struct {
		name string
		err  error
		want failure.Class
	}{
		{"nil", nil, failure.ClassNone},
		{"1045 wrapped twice", fmt.Errorf("source: %w", fmt.Errorf("connect: %w", &mysqldriver.MySQLError{Number: 1045})), failure.ClassAuthenticationFailed},
		{"1820", &mysqldriver.MySQLError{Number: 1820}, failure.ClassAuthenticationFailed},
		{"2003 from a replica", &mysqldriver.MySQLError{Number: 2003}, failure.ClassPrimaryDBDown},
		{"2013 lost connection", &mysqldriver.MySQLError{Number: 2013}, failure.ClassNetworkPartition},
		{"unknown number", &mysqldriver.MySQLError{Number: 1213}, failure.ClassUnknown},
		{"host unreachable", dial(syscall.EHOSTUNREACH), failure.ClassPrimaryDBDown},
		{"network unreachable", dial(syscall.ENETUNREACH), failure.ClassPrimaryDBDown},
		{"no such host", &net.OpError{Op: "dial", Err: &net.DNSError{Name: "db.invalid", IsNotFound: true}}, failure.ClassPrimaryDBDown},
		{"dns timeout", &net.DNSError{Name: "db", IsTimeout: true}, failure.ClassConnectionTimeout},
		{"read deadline", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, failure.ClassConnectionTimeout},
		{"context deadline", fmt.Errorf("ping: %w", context.DeadlineExceeded), failure.ClassConnectionTimeout},
		{"connection reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, failure.ClassNetworkPartition},
		{"EOF", fmt.Errorf("read packet: %w", io.EOF), failure.ClassNetworkPartition},
		{"unexpected EOF", io.ErrUnexpectedEOF, failure.ClassNetworkPartition},
		{"driver invalid conn", mysqldriver.ErrInvalidConn, failure.ClassNetworkPartition},
		{"bad conn", driver.ErrBadConn, failure.ClassNetworkPartition},
		{"table not found", fmt.Errorf("discover: %w", &mysql.TableNotFoundError{Database: "d", Table: "t"}), failure.ClassSchemaChange},
		{"schema drift", fmt.Errorf("stream x: column Data_Processamento: %w", failure.ErrSchemaChange), failure.ClassSchemaChange},
		{"checksum mismatch", fmt.Errorf("part 3: %w", failure.ErrDataCorruption), failure.ClassDataCorruption},
		{"quality gate", fmt.Errorf("source: stream x: %w", &quality.FailedError{Stream: "x"}), failure.ClassDataCorruption},
		{"cancelled", context.Canceled, failure.ClassUnknown},
		{"plain error", errors.New("connection refused"), failure.ClassUnknown}, // text alone never classifies
		{"sql no rows", sql.ErrNoRows, failure.ClassUnknown},
		{"cut at max_duration mid-read", maxDurationCut(), failure.ClassMaxDuration},
		{"max_duration as recorded", failure.Recorded(failure.ClassMaxDuration, false, "sync exceeded its maximum duration"), failure.ClassMaxDuration},
	}
	for _, c := range cases {
		if got := failure.Classify(c.err); got != c.want {
			t.Errorf("%s: failure.Classify(%v) = %q, want %q", c.name, c.err, got, c.want)
		}
	}
}

// maxDurationCut is the error of a job cut at its maximum duration while
// reading: the cause wrapped around the read's timeout on the source.
func maxDurationCut() error {
	read := failure.Source("diario", fmt.Errorf("read chunk: %w", context.DeadlineExceeded))
	return fmt.Errorf("%w (3h0m0s): %w", failure.ErrMaxDuration, read)
}

// A job cut at its maximum duration is on neither side, even when the cut
// interrupted a read on the source: the failover machine counts it
// against no source, and the job's record keeps it so.
func TestOnSource_AMaxDurationCutIsOnNeitherSide(t *testing.T) {
	t.Parallel()
	if failure.OnSource(maxDurationCut()) {
		t.Error("a max_duration cut mid-read is on the source side; want neither")
	}
	if !failure.OnSource(failure.Source("diario", fmt.Errorf("read chunk: %w", context.DeadlineExceeded))) {
		t.Error("a read timeout on the source is not on the source side")
	}
}
