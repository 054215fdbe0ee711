// Package sandbox starts throwaway MariaDB servers (a primary and a real
// binlog replica) from the installed mariadbd, each in its own directory on a
// free loopback port. `acode demo` and the benchmark use it; the tests use it
// through internal/testenv.
package sandbox

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
	"time"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

const installHint = "install it with: apt-get install mariadb-server (scripts/test-deps.sh does it)"

// Options chooses how Start configures its server.
type Options struct {
	// TLS generates a CA and a server certificate (SAN IP 127.0.0.1, DNS
	// localhost) and starts the server with --ssl-ca/--ssl-cert/--ssl-key.
	TLS bool
	// ServerID is the replication server id; 0 picks a unique one.
	ServerID int
	// Args are extra mariadbd options, e.g. "--innodb-buffer-pool-size=1G"
	// for a benchmark (the default pool is a small 64M so that many test
	// instances fit).
	Args []string
	// Keep says dir outlives this process (`acode bench --dir` starts
	// again on the table it filled): when the process dies without
	// closing the server, the next sandbox start stops the server but
	// keeps dir. Otherwise it removes dir too.
	Keep bool
}

// Server is one mariadbd process with its own data directory, port and
// binlog, owned by whoever started it: it can be killed, restarted and
// replicated freely, and Close always takes it down.
type Server struct {
	Host      string
	Port      int
	Dir       string // holds data/, error.log, the socket and TLS files
	CACertPEM string // the CA that signed the server certificate, when TLS

	ServerID int
	opts     Options

	release func() // releases the data directory template, once

	mu      sync.Mutex
	proc    *process
	root    *sql.DB
	sockDir string // a short directory for the socket when Dir is too deep
}

// maxSocketPath is the longest unix socket path mariadbd accepts (107
// bytes, less the terminator); a deep TMPDIR passes it easily.
const maxSocketPath = 100

// socketPath is where mariadbd puts its unix socket: in Dir when the path is
// short enough, else in a short directory under /tmp. Clients use TCP; the
// server just insists on having a socket.
func (m *Server) socketPath() string {
	p := filepath.Join(m.Dir, "mysqld.sock")
	if len(p) <= maxSocketPath {
		return p
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sockDir == "" {
		d, err := os.MkdirTemp("/tmp", "acode-sock-")
		if err != nil {
			return p // mariadbd will say what is wrong
		}
		m.sockDir = d
	}
	return filepath.Join(m.sockDir, "s")
}

func (m *Server) removeSocketDir() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sockDir != "" {
		os.RemoveAll(m.sockDir)
		m.sockDir = ""
	}
}

// process is a running mariadbd and the goroutine that waits for it.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // exit status, valid after done
}

var serverIDs atomic.Int64

// Start initializes a data directory under dir and starts mariadbd on a free
// loopback port with binlog ROW and GTID strict mode. The caller owns the
// server and must Close it. The server is listed as this process's
// (owner.go): once this process is gone, the next sandbox start stops it
// and removes dir (unless opts.Keep).
func Start(dir string, opts Options) (*Server, error) {
	if opts.ServerID == 0 {
		opts.ServerID = int(1000 + serverIDs.Add(1))
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	reapBeforeStart()
	m := &Server{Host: "127.0.0.1", Dir: dir, ServerID: opts.ServerID, opts: opts}
	if err := m.install(); err != nil {
		return nil, err
	}
	if err := register(kindMariaDB, dir, opts.Keep); err != nil {
		m.releaseData()
		return nil, err
	}
	if opts.TLS {
		ca, err := writeServerCerts(dir)
		if err != nil {
			m.releaseData()
			return nil, fmt.Errorf("generate certificates: %w", err)
		}
		m.CACertPEM = ca
	}
	for attempt := 0; attempt < 3; attempt++ {
		if m.Port, err = FreePort(); err != nil {
			break
		}
		if err = m.launch(); err == nil {
			return m, nil
		}
	}
	m.releaseData()
	return nil, err
}

// install fills Dir/data with a copy of the process's bootstrapped template
// (see template.go) and creates the server's private tmpdir. A data
// directory that already holds a server's system tables is kept as it is:
// `acode bench --dir` starts its sandbox again on the table it filled.
func (m *Server) install() error {
	if err := os.MkdirAll(filepath.Join(m.Dir, "tmp"), 0o700); err != nil {
		return fmt.Errorf("create tmpdir: %w", err)
	}
	if st, err := os.Stat(filepath.Join(m.Dir, "data", "mysql")); err == nil && st.IsDir() {
		return nil
	}
	src, err := acquireTemplate()
	if err != nil {
		return err
	}
	m.release = sync.OnceFunc(releaseTemplate)
	if err := copyTree(src, filepath.Join(m.Dir, "data")); err != nil {
		m.releaseData()
		return fmt.Errorf("copy the bootstrapped data directory: %w", err)
	}
	return nil
}

// releaseData gives up the server's use of the template, once.
func (m *Server) releaseData() {
	if m.release != nil {
		m.release()
	}
}

// launch starts mariadbd on m.Port with m.Dir and waits until it answers.
func (m *Server) launch() error {
	bin, err := findBinary("mariadbd")
	if err != nil {
		return err
	}
	args := []string{"--no-defaults", "--user=root",
		"--datadir=" + filepath.Join(m.Dir, "data"),
		"--socket=" + m.socketPath(),
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

func (m *Server) waitReady(p *process, timeout time.Duration) error {
	db, err := mysqldriver.OpenDSN(m.DSN(""))
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

func (m *Server) errorLogTail() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "error.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// DSN is a root DSN for database db (empty: none) over TCP, values as text.
func (m *Server) DSN(db string) string {
	cfg := mysqldriver.NewConfig()
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
func (m *Server) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// Stop shuts the server down cleanly (SIGTERM), escalating to SIGKILL after
// 30 s. Restart brings it back.
func (m *Server) Stop() error {
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

func (m *Server) killProcess(p *process) {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// shutdown stops the server and closes the root pool; for cleanups.
// Close stops the server (SIGKILL: a sandbox holds nothing worth a clean
// shutdown) and closes the root pool.
func (m *Server) Close() {
	defer m.releaseData()
	defer m.removeSocketDir()
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
	return "", fmt.Errorf("%s not found in PATH or /usr/sbin: %s", name, installHint)
}

// FreePort returns a loopback TCP port free at the time of the call.
func FreePort() (int, error) {
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

// Available reports whether mariadbd and mariadb-install-db are installed,
// with the command that installs them when they are not.
func Available() error {
	for _, name := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := findBinary(name); err != nil {
			return err
		}
	}
	return nil
}

// Root is a root connection pool, shared by the calls on m and closed by
// Close.
func (m *Server) Root() (*sql.DB, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.root == nil {
		db, err := mysqldriver.OpenDSN(m.DSN(""))
		if err != nil {
			return nil, fmt.Errorf("open root pool: %w", err)
		}
		m.root = db
	}
	return m.root, nil
}

// Kill sends SIGKILL to the server's process group and waits for it to die,
// as a crashed primary would.
func (m *Server) Kill() error {
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	m.mu.Unlock()
	if p == nil {
		return fmt.Errorf("kill mariadb on %s: not running", m.Addr())
	}
	m.killProcess(p)
	return nil
}

// Restart starts the server again on the same data directory and port,
// after Kill or Stop (or stops it first when it is running).
func (m *Server) Restart() error {
	m.mu.Lock()
	running := m.proc != nil
	m.mu.Unlock()
	if running {
		if err := m.Stop(); err != nil {
			return err
		}
	}
	if err := m.launch(); err != nil {
		return fmt.Errorf("restart mariadb: %w", err)
	}
	return nil
}
