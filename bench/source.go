package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/mysqldriver"
	"github.com/acode-dev/acode/internal/sandbox"
)

// benchUser is the account the sandbox gives acode and mysqldump.
const benchUser = "acode_bench"

// source is the MariaDB the benchmark reads: a sandbox it started or a
// server given by DSN.
type source struct {
	host     string
	port     int
	user     string
	password string
	database string
	root     *sql.DB // loads the data; closed by Close
	server   *sandbox.Server
	rows     int64 // in the table, set by fill
	// wan, when set, is the link the tools cross: they run in its
	// namespace and connect to its proxy instead of host:port.
	wan *wanLink
}

// addr is where the measured tools connect: the server, or the WAN proxy.
func (s *source) addr() (string, int) {
	if s.wan != nil {
		return s.wan.hostIP, s.wan.port
	}
	return s.host, s.port
}

// command is name with args as the measured tools run: inside the WAN
// link's namespace when there is one.
func (s *source) command(name string, args []string) (string, []string) {
	if s.wan != nil {
		return s.wan.command(name, args)
	}
	return name, args
}

func openSource(ctx context.Context, cfg Config, dir string) (*source, error) {
	if cfg.DSN != "" {
		return dialSource(ctx, cfg)
	}
	if err := sandbox.Available(); err != nil {
		return nil, err
	}
	srv, err := sandbox.Start(dir, sandbox.Options{Keep: cfg.Dir != "", Args: []string{
		"--innodb-buffer-pool-size=" + cfg.BufferPool,
		"--innodb-log-file-size=512M",
		"--max-allowed-packet=256M",
	}})
	if err != nil {
		return nil, fmt.Errorf("start sandbox mariadb: %w", err)
	}
	s := &source{host: srv.Host, port: srv.Port, user: benchUser, database: cfg.Database, server: srv}
	s.password = "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if s.root, err = mysqldriver.OpenDSN(srv.DSN("")); err != nil {
		srv.Close()
		return nil, err
	}
	for _, q := range []string{
		// OR REPLACE: a kept --dir holds the user with an earlier run's password.
		"CREATE OR REPLACE USER '" + benchUser + "'@'%' IDENTIFIED BY '" + s.password + "'",
		"GRANT SELECT, SHOW VIEW, RELOAD, REPLICATION CLIENT, LOCK TABLES ON *.* TO '" + benchUser + "'@'%'",
	} {
		if _, err := s.root.ExecContext(ctx, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("create bench user: %w", err)
		}
	}
	return s, nil
}

func dialSource(ctx context.Context, cfg Config) (*source, error) {
	dc, err := mysqldriver.ParseDSN(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("--dsn: %w", err)
	}
	host, portText, err := net.SplitHostPort(dc.Addr)
	if err != nil {
		return nil, fmt.Errorf("--dsn address %q: want host:port over tcp", dc.Addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("--dsn port %q: %w", portText, err)
	}
	dc.DBName = ""
	dc.AllowAllFiles = true
	dc.InterpolateParams = true
	connector, err := mysqldriver.NewConnector(dc)
	if err != nil {
		return nil, fmt.Errorf("--dsn: %w", err)
	}
	s := &source{host: host, port: port, user: dc.User, password: dc.Passwd, database: cfg.Database, root: sql.OpenDB(connector)}
	if err := s.root.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to --dsn server: %w", err)
	}
	return s, nil
}

// Close closes the pool and stops a sandbox server.
func (s *source) Close() {
	if s.root != nil {
		s.root.Close()
	}
	if s.server != nil {
		s.server.Close()
	}
}

// fill makes the benchmark table hold exactly n demo rows, reusing what a
// previous run left when it already does.
func (s *source) fill(ctx context.Context, n int, out io.Writer) error {
	var have int64
	err := s.root.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.qualified()).Scan(&have)
	s.rows = int64(n)
	if err == nil && have == int64(n) {
		fmt.Fprintf(out, "# reusing %s with %d rows\n", s.qualified(), n)
		return nil
	}
	fmt.Fprintf(out, "# loading %d rows into %s (demo generator, LOAD DATA LOCAL)\n", n, s.qualified())
	start := time.Now()
	if err := demo.CreateSchema(ctx, s.root, s.database); err != nil {
		return err
	}
	if _, err := demo.Fill(ctx, s.root, s.database, demo.Options{Rows: n, Days: 7, Seed: 1}); err != nil {
		return fmt.Errorf("load %d rows: %w", n, err)
	}
	if _, err := s.root.ExecContext(ctx, "ANALYZE TABLE "+s.qualified()); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	fmt.Fprintf(out, "# loaded in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// tableBytes is InnoDB's size of the table (data and indexes), 0 if unknown.
func (s *source) tableBytes(ctx context.Context) int64 {
	var n sql.NullInt64
	_ = s.root.QueryRowContext(ctx,
		"SELECT data_length + index_length FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
		s.database, demo.TableDiario).Scan(&n)
	return n.Int64
}

func (s *source) qualified() string {
	return "`" + s.database + "`.`" + demo.TableDiario + "`"
}

// dump times `mysqldump --single-transaction --quick` of the table over
// TCP into /dev/null, with --compress when compress is set (reported as
// mysqldump_compress). The password goes through MYSQL_PWD, not argv.
func (s *source) dump(ctx context.Context, compress bool) (Measurement, error) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return Measurement{}, err
	}
	defer devnull.Close()
	bin, err := findTool("mysqldump", "mariadb-dump")
	if err != nil {
		return Measurement{}, err
	}
	host, port := s.addr()
	args := []string{"--single-transaction", "--quick", "--protocol=TCP",
		"-h", host, "-P", strconv.Itoa(port), "-u", s.user, s.database, demo.TableDiario}
	tool := "mysqldump"
	if compress {
		args, tool = append([]string{"--compress"}, args...), "mysqldump_compress"
	}
	env := append(os.Environ(), "MYSQL_PWD="+s.password)
	l := load1()
	name, args := s.command(bin, args)
	c, err := runChild(ctx, name, args, env, devnull, nil)
	if err != nil {
		return Measurement{}, err
	}
	return c.measurement(tool, s.rows, 0, l), nil
}

// findTool finds the first of names in PATH or the usual bin directories.
func findTool(names ...string) (string, error) {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/bin", "/usr/local/bin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s not found: install it with: apt-get install mariadb-client (scripts/test-deps.sh does it)", names[0])
}
