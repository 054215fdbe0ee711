// Package hadrill is `acode demo --ha`: three `acode serve` processes on
// one throwaway PostgreSQL state, syncing the demo's MariaDB sandbox,
// while the drill kills the leader and then the replica running a sync,
// and prints how long the cluster took to recover from each. Everything it
// starts lives under one temp dir and is stopped before Run returns, on
// error and on cancellation too.
package hadrill

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/sandbox"
	"github.com/acode-dev/acode/internal/state"
)

// TempPrefix begins the name of the drill's temp dir: every process it
// starts runs with that dir in its command line, so a test finds leftovers
// by it alone.
const TempPrefix = "acode-hademo-"

// Options say what the drill runs.
type Options struct {
	Exe  string // the acode binary the replicas run (os.Executable)
	Rows int    // rows of the demo's fiscal table; the others scale with it
	Out  io.Writer
}

// Run performs the whole drill.
func Run(ctx context.Context, o Options) error {
	tmp, err := os.MkdirTemp("", TempPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// PostgreSQL runs as the postgres user when this is root: it must
	// reach its directory below this one.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	e := &env{Options: o, tmp: tmp}
	defer e.close()
	if err := e.start(ctx); err != nil {
		return err
	}
	return e.drill(ctx)
}

// env is what the drill started, closed in reverse order.
type env struct {
	Options
	tmp      string
	closers  []func()
	st       *state.Store
	reps     []*replica
	password string
	total    int64 // rows of the three tables
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.Out, format, args...) }

// start brings up PostgreSQL, MariaDB (primary and replica, filled) and
// three replicas of acode serve on one state database.
func (e *env) start(ctx context.Context) error {
	e.printf("== starting PostgreSQL (Debian's binaries) in %s\n", e.tmp)
	pg, err := sandbox.StartPostgres(filepath.Join(e.tmp, "pg"))
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() { _ = pg.Stop() })
	if err := pg.CreateDatabase(ctx, "acode_state"); err != nil {
		return err
	}
	e.printf("   127.0.0.1:%d, state_db database acode_state\n", pg.Port)
	project, err := e.mariadb(ctx)
	if err != nil {
		return err
	}
	if err := e.writeSettings(project, pg.URL("acode_state")); err != nil {
		return err
	}
	if e.st, err = state.Open(ctx, pg.URL("acode_state")); err != nil {
		return err
	}
	e.closers = append(e.closers, func() { e.st.Close() })
	return e.startReplicas(ctx, project)
}

// mariadb starts the demo's primary and replica, fills them and writes
// the demo project pointed at them; it returns the project's directory.
func (e *env) mariadb(ctx context.Context) (string, error) {
	e.printf("== starting a MariaDB primary and a binlog replica\n")
	primary, err := sandbox.Start(filepath.Join(e.tmp, "primary"), sandbox.Options{})
	if err != nil {
		return "", err
	}
	e.closers = append(e.closers, primary.Close)
	rep, err := sandbox.StartReplica(filepath.Join(e.tmp, "replica"), primary)
	if err != nil {
		return "", err
	}
	e.closers = append(e.closers, rep.Close)
	root, err := primary.Root()
	if err != nil {
		return "", err
	}
	e.password = "demo-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := demo.Prepare(ctx, root, e.password); err != nil {
		return "", err
	}
	counts, err := demo.Fill(ctx, root, demo.Database, demo.Options{Rows: e.Rows, Days: 7, Now: time.Now(), Seed: 1})
	if err != nil {
		return "", err
	}
	e.total = counts.Diario + counts.Produtos + counts.Complemento
	e.printf("   %d rows in three tables\n", e.total)
	if err := rep.WaitCaughtUp(ctx, primary); err != nil {
		return "", err
	}
	out := filepath.Join(e.tmp, "data")
	project := filepath.Join(e.tmp, "project")
	if err := demo.WriteProject(project, out, primary.Port, rep.Port); err != nil {
		return "", err
	}
	return project, nil
}

// writeSettings points the project at the PostgreSQL state and throttles
// its reads so that one sync lasts about 15 s: long enough to be killed
// in the middle of a range.
func (e *env) writeSettings(project, stateURL string) error {
	perSecond := max(e.total/15, 100)
	chunk := max(e.total/40, 50)
	settings := fmt.Sprintf(`state_db: %s
sync:
  chunk_rows: %d
  file_size_mb: 1
  max_parallel_reads: 1
  parallel_streams: 1
  max_rows_per_second: %d
serve:
  job_attempts: 3
  retry_delay: 1s
  shutdown_grace: 2s
`, stateURL, chunk, perSecond)
	if err := os.WriteFile(filepath.Join(project, "acode.yaml"), []byte(settings), 0o600); err != nil {
		return fmt.Errorf("write demo settings: %w", err)
	}
	return nil
}

func (e *env) startReplicas(ctx context.Context, project string) error {
	auth := [2]string{"demo", "api-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	environ := append(os.Environ(), "ACODE_API_USER="+auth[0], "ACODE_API_PASSWORD="+auth[1])
	look := demo.Env(e.password, func(string) (string, bool) { return "", false })
	for _, k := range []string{"ACODE_PASS", "ACODE_BACKUP_HOST", "ACODE_BACKUP_USER", "ACODE_BACKUP_PASS",
		"FARMARCAS_AWS_ACCESS_KEY_ID", "FARMARCAS_AWS_SECRET_ACCESS_KEY"} {
		if v, ok := look(k); ok {
			environ = append(environ, k+"="+v)
		}
	}
	e.printf("== starting three acode serve on that state\n")
	e.closers = append(e.closers, func() {
		for _, r := range e.reps {
			r.stop(10 * time.Second)
		}
	})
	for i := 1; i <= 3; i++ {
		r, err := startReplica(ctx, e.Exe, project, e.tmp, "replica-"+strconv.Itoa(i), environ, auth)
		if err != nil {
			return err
		}
		e.reps = append(e.reps, r)
		e.printf("   %s on %s (pid %d)\n", r.name, r.url, r.pid())
	}
	return nil
}
