package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

const postgresHint = "install it with: apt-get install postgresql (scripts/test-deps.sh does it)"

// Postgres is a throwaway PostgreSQL cluster (Debian's binaries, trust
// authentication, fsync off) in its own directory on a free loopback port.
// Its owner must Stop it.
type Postgres struct {
	Host string
	Port int
	Dir  string // holds data/, log and the socket

	bin  string // the directory of initdb, pg_ctl
	runs string // the OS user the server runs as ("" = this process's user)
}

// StartPostgres initializes a cluster in dir (created, and handed to the
// postgres user when running as root: initdb refuses root) and starts it.
// dir must be short enough for a unix socket path (under /tmp is). The
// cluster is listed as this process's (owner.go): once this process is
// gone, the next sandbox start stops it and removes dir.
func StartPostgres(dir string) (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	reapBeforeStart()
	p := &Postgres{Host: "127.0.0.1", Dir: dir, bin: bin}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create postgres dir: %w", err)
	}
	if err := register(kindPostgres, dir, false); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if err := chownTo(dir, "postgres"); err != nil {
			return nil, err
		}
		p.runs = "postgres"
	}
	if out, err := p.run("initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb in %s: %w\n%s", dir, err, out)
	}
	for attempt := 0; attempt < 3; attempt++ {
		if p.Port, err = FreePort(); err != nil {
			return nil, err
		}
		if err = p.Start(); err == nil {
			return p, nil
		}
	}
	return nil, err
}

// Start starts the cluster on its port (again, after Kill or Stop) and
// returns once it accepts connections.
func (p *Postgres) Start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400", p.Port, p.Dir)
	out, err := p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.Dir, "log"), "-w", "-t", "60", "-o", opts, "start")
	if err != nil {
		return fmt.Errorf("start postgres on port %d: %w\n%s\n%s", p.Port, err, out, tail(filepath.Join(p.Dir, "log"), 20))
	}
	return nil
}

// Stop shuts the cluster down at once (immediate mode: no checkpoint, like
// a crash the next Start recovers from).
func (p *Postgres) Stop() error {
	if out, err := p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("stop postgres on port %d: %w\n%s", p.Port, err, out)
	}
	return nil
}

// URL is a database/sql (pgx) URL for database db as the superuser.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", p.Host, p.Port, db)
}

// Admin opens the postgres database as the superuser.
func (p *Postgres) Admin() (*sql.DB, error) {
	db, err := sql.Open("pgx", p.URL("postgres"))
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return db, nil
}

// CreateDatabase creates database name (a plain identifier).
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	db, err := p.Admin()
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name, closing its sessions.
func (p *Postgres) DropDatabase(ctx context.Context, name string) error {
	db, err := p.Admin()
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

func (p *Postgres) data() string { return filepath.Join(p.Dir, "data") }

// run runs one of the cluster's programs, as the postgres user when root.
func (p *Postgres) run(prog string, args ...string) ([]byte, error) {
	name := filepath.Join(p.bin, prog)
	if p.runs != "" {
		args = append([]string{"-u", p.runs, "--", name}, args...)
		name = "runuser"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = p.Dir
	return cmd.CombinedOutput()
}

// postgresBinDir finds initdb: on PATH, else Debian's
// /usr/lib/postgresql/<version>/bin (newest version first).
func postgresBinDir() (string, error) {
	if path, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(path), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb not found on PATH or in /usr/lib/postgresql/*/bin: " + postgresHint)
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func chownTo(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("postgres runs as user %q, which does not exist: %s", name, postgresHint)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("hand %s to user %s: %w", dir, name, err)
	}
	return nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
