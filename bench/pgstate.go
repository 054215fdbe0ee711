package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/acode-dev/acode/internal/sandbox"
)

// startStatePostgres starts the throwaway PostgreSQL the pgstate sync keeps
// its state in, in a temp dir of its own (short, for the socket path, and
// open to the postgres user PostgreSQL runs as under root); stop stops it
// and removes the dir.
func startStatePostgres(pg **sandbox.Postgres) (stop func(), err error) {
	dir, err := os.MkdirTemp("", "acode-bench-pg-")
	if err != nil {
		return nil, fmt.Errorf("create postgres dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p, err := sandbox.StartPostgres(filepath.Join(dir, "pg"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("state postgres: %w", err)
	}
	*pg = p
	return func() { _ = p.Stop(); os.RemoveAll(dir) }, nil
}

// usePostgresState points p's state_db at a new database db on pg and
// names its tool acode_local_pgstate.
func (p *project) usePostgresState(ctx context.Context, pg *sandbox.Postgres, db string) error {
	if err := pg.DropDatabase(ctx, db); err != nil {
		return err
	}
	if err := pg.CreateDatabase(ctx, db); err != nil {
		return err
	}
	path := filepath.Join(p.dir, "acode.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("bench project settings: %w", err)
	}
	text := strings.Replace(string(b), "state_db: state.db", "state_db: "+pg.URL(db), 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return fmt.Errorf("bench project settings: %w", err)
	}
	p.tool += "_pgstate"
	return nil
}

// comparePostgresState sets and prints what PostgreSQL state costs against
// SQLite state, when sr has both local syncs.
func comparePostgresState(out io.Writer, sr *SizeRuns) {
	var sqlite, pg *Measurement
	for i, m := range sr.Runs {
		switch m.Tool {
		case "acode_local":
			sqlite = &sr.Runs[i]
		case "acode_local_pgstate":
			pg = &sr.Runs[i]
		}
	}
	if sqlite == nil || pg == nil {
		return
	}
	sr.PostgresStateOverhead = overhead(*pg, *sqlite)
	fmt.Fprintf(out, "# at %d rows, PostgreSQL state against SQLite state: %+.1f%% wall, %+.1f%% CPU (target: within 5%%)\n",
		sr.Rows, 100*sr.PostgresStateOverhead.Wall, 100*sr.PostgresStateOverhead.CPU)
}
