package syncer

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const testPass = testenv.ProjectPassword

// fixture is a test project plus the helpers the syncer tests share.
type fixture struct{ *testenv.Project }

func newFixture(t *testing.T, db *testenv.MariaDB, database string, s3 *testenv.S3Server) *fixture {
	t.Helper()
	return &fixture{testenv.NewProject(t, db, database, s3)}
}

func (f *fixture) project(t *testing.T) *config.Project {
	t.Helper()
	p, err := config.Load(f.Dir, f.Lookup)
	if err != nil {
		t.Fatalf("load project: %v", err)
	}
	return p
}

// run syncs the connection once with a fresh Syncer, as `acode sync` does.
func (f *fixture) run(t *testing.T, connection string, opts Options) (*Result, error) {
	t.Helper()
	return runWith(context.Background(), t, f.project(t), connection, opts)
}

// runWith runs a job with the caller's context.
func runWith(ctx context.Context, t *testing.T, p *config.Project, connection string, opts Options) (*Result, error) {
	t.Helper()
	st, err := state.Open(context.Background(), p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Syncer{Project: p, State: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		s.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return s.Run(ctx, connection, opts)
}
