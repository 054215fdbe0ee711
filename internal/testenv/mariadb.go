package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

const mariadbInstallHint = "run scripts/test-deps.sh (apt-get install mariadb-server)"

// MariaDBOptions chooses how StartMariaDB configures its server.
type MariaDBOptions struct {
	// TLS generates a CA and a server certificate (SAN IP 127.0.0.1, DNS
	// localhost) and starts the server with --ssl-ca/--ssl-cert/--ssl-key.
	TLS bool
	// ServerID is the replication server id; 0 picks a unique one.
	ServerID int
	// Args are extra mariadbd options, e.g. "--innodb-buffer-pool-size=1G"
	// for a benchmark (the default pool is a small 64M so that many test
	// instances fit).
	Args []string
}

// MariaDB is one mariadbd process owned by a test: its own data directory,
// port and binlog, so tests can kill, restart and replicate it freely.
type MariaDB struct {
	Host      string
	Port      int
	Dir       string // holds data/, error.log, the socket and TLS files
	CACertPEM string // the CA that signed the server certificate, when TLS

	ServerID int
	opts     MariaDBOptions

	mu   sync.Mutex
	proc *process
	root *sql.DB
}

// process is a running mariadbd and the goroutine that waits for it.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // exit status, valid after done
}

var serverIDs atomic.Int64

// StartMariaDB starts a fresh mariadbd in t.TempDir() on a free loopback port
// with binlog ROW and GTID strict mode, and stops it at cleanup.
func StartMariaDB(t testing.TB, opts MariaDBOptions) *MariaDB {
	t.Helper()
	m, err := startMariaDB(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start mariadb: %v", err)
	}
	t.Cleanup(m.shutdown)
	return m
}

func startMariaDB(dir string, opts MariaDBOptions) (*MariaDB, error) {
	if opts.ServerID == 0 {
		opts.ServerID = int(1000 + serverIDs.Add(1))
	}
	m := &MariaDB{Host: "127.0.0.1", Dir: dir, ServerID: opts.ServerID, opts: opts}
	if err := m.install(); err != nil {
		return nil, err
	}
	if opts.TLS {
		ca, err := writeServerCerts(dir)
		if err != nil {
			return nil, fmt.Errorf("generate certificates: %w", err)
		}
		m.CACertPEM = ca
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if m.Port, err = freePort(); err != nil {
			return nil, err
		}
		if err = m.launch(); err == nil {
			return m, nil
		}
	}
	return nil, err
}

func (m *MariaDB) install() error {
	installDB, err := findBinary("mariadb-install-db")
	if err != nil {
		return err
	}
	// A private tmpdir: concurrent bootstraps collide on temp table names in /tmp.
	tmp := filepath.Join(m.Dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("create tmpdir: %w", err)
	}
	cmd := exec.Command(installDB, "--no-defaults", "--datadir="+filepath.Join(m.Dir, "data"),
		"--user=root", "--auth-root-authentication-method=normal", "--skip-test-db", "--tmpdir="+tmp)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %w\n%s", err, out)
	}
	return nil
}

// launch starts mariadbd on m.Port with m.Dir and waits until it answers.
func (m *MariaDB) launch() error {
	bin, err := findBinary("mariadbd")
	if err != nil {
		return err
	}
	args := []string{"--no-defaults", "--user=root",
		"--datadir=" + filepath.Join(m.Dir, "data"),
		"--socket=" + filepath.Join(m.Dir, "mysqld.sock"),
		"--tmpdir=" + filepath.Join(m.Dir, "tmp"),
		"--pid-file=" + filepath.Join(m.Dir, "mariadbd.pid"),
		"--port=" + strconv.Itoa(m.Port), "--bind-address=127.0.0.1", "--skip-name-resolve",
		"--server-id=" + strconv.Itoa(m.ServerID),
		"--log-bin=" + filepath.Join(m.Dir, "data", "binlog"), "--binlog-format=ROW",
		"--log-slave-updates", "--gtid-strict-mode=ON",
		"--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0",
		"--innodb-buffer-pool-size=64M", "--performance-schema=OFF",
		"--max-connections=500", "--local-infile=1",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
		"--log-error=" + filepath.Join(m.Dir, "error.log"),
	}
	if m.opts.TLS {
		args = append(args,
			"--ssl-ca="+filepath.Join(m.Dir, "ca.pem"),
			"--ssl-cert="+filepath.Join(m.Dir, "server-cert.pem"),
			"--ssl-key="+filepath.Join(m.Dir, "server-key.pem"))
	}
	args = append(args, m.opts.Args...)
	cmd := exec.Command(bin, args...)
	// Own process group so Kill reaches everything it spawned; SIGKILL if the
	// test binary dies without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	m.mu.Lock()
	m.proc = p
	m.mu.Unlock()
	if err := m.waitReady(p, 60*time.Second); err != nil {
		m.killProcess(p)
		return err
	}
	return nil
}

func (m *MariaDB) waitReady(p *process, timeout time.Duration) error {
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var dataDir string
		err = db.QueryRowContext(ctx, "SELECT @@datadir").Scan(&dataDir)
		cancel()
		if err == nil {
			// Another test binary's server may have won the race for the port.
			if filepath.Clean(dataDir) != filepath.Join(m.Dir, "data") {
				return fmt.Errorf("port %d answered by another server (datadir %s)", m.Port, dataDir)
			}
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("mariadbd exited (%v) on port %d:\n%s", p.err, m.Port, m.errorLogTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbd on port %d not ready after %s: %v\n%s", m.Port, timeout, err, m.errorLogTail())
		}
	}
}

func (m *MariaDB) errorLogTail() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "error.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// DSN is a root DSN for database db (empty: none) over TCP, values as text.
func (m *MariaDB) DSN(db string) string {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	cfg.DBName = db
	cfg.InterpolateParams = true
	cfg.AllowAllFiles = true
	cfg.Timeout = 5 * time.Second
	return cfg.FormatDSN()
}

// Addr is host:port.
func (m *MariaDB) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// Root is a root connection pool, shared by the calls on m and closed when m
// stops.
func (m *MariaDB) Root(t testing.TB) *sql.DB {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.root == nil {
		db, err := sql.Open("mysql", m.DSN(""))
		if err != nil {
			t.Fatalf("open root: %v", err)
		}
		m.root = db
	}
	return m.root
}

// Exec runs each statement as root, failing the test on the first error.
func (m *MariaDB) Exec(t testing.TB, statements ...string) {
	t.Helper()
	db := m.Root(t)
	for _, s := range statements {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("exec %q on %s: %v", s, m.Addr(), err)
		}
	}
}

// CreateUser creates user@'%' with password pass, optionally REQUIRE SSL,
// and grants each privilege clause, e.g. "SELECT ON db.*".
func (m *MariaDB) CreateUser(t testing.TB, user, pass string, requireSSL bool, grants ...string) {
	t.Helper()
	stmt := fmt.Sprintf("CREATE USER %s IDENTIFIED BY %s", quoteUser(user), quoteString(pass))
	if requireSSL {
		stmt += " REQUIRE SSL"
	}
	m.Exec(t, stmt)
	for _, g := range grants {
		m.Exec(t, fmt.Sprintf("GRANT %s TO %s", g, quoteUser(user)))
	}
}

// Kill sends SIGKILL to the server's process group and waits for it to die,
// as a crashed primary would.
func (m *MariaDB) Kill(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	m.mu.Unlock()
	if p == nil {
		t.Fatalf("kill mariadb on %s: not running", m.Addr())
	}
	m.killProcess(p)
}

// Stop shuts the server down cleanly (SIGTERM), escalating to SIGKILL after
// 30 s.
func (m *MariaDB) Stop(t testing.TB) {
	t.Helper()
	if err := m.stop(); err != nil {
		t.Fatalf("stop mariadb on %s: %v", m.Addr(), err)
	}
}

// Restart starts the server again on the same data directory and port, after
// Kill or Stop (or stops it first when it is running).
func (m *MariaDB) Restart(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	running := m.proc != nil
	m.mu.Unlock()
	if running {
		m.Stop(t)
	}
	if err := m.launch(); err != nil {
		t.Fatalf("restart mariadb: %v", err)
	}
}

func (m *MariaDB) stop() error {
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	m.mu.Unlock()
	if p == nil {
		return nil
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		m.killProcess(p)
		return errors.New("did not stop within 30s; killed")
	}
}

func (m *MariaDB) killProcess(p *process) {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// shutdown stops the server and closes the root pool; for cleanups.
func (m *MariaDB) shutdown() {
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	root := m.root
	m.root = nil
	m.mu.Unlock()
	if root != nil {
		root.Close()
	}
	if p != nil {
		// Test servers hold nothing worth a clean shutdown.
		m.killProcess(p)
	}
}

func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or /usr/sbin: %s", name, mariadbInstallHint)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func quoteUser(user string) string { return quoteString(user) + "@'%'" }
