package validate_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const local = "connection_mysql_local_acode"

// synced is a project whose local connection synced the demo tables once.
func synced(t *testing.T, rows int) (*testenv.Project, *config.Project, *syncer.Result) {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	ctx := context.Background()
	demotest.Fill(t, m, database, demo.Options{Rows: rows, Seed: 5, Days: 3, Now: time.Now()})
	tp := testenv.NewProject(t, m, database, nil)
	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := (&syncer.Syncer{Project: p, State: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx, local, syncer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tp, p, res
}

func validateDay(t *testing.T, p *config.Project, day time.Time) validate.Result {
	t.Helper()
	conn, err := p.Connection(local)
	if err != nil {
		t.Fatal(err)
	}
	r, err := validate.Day(context.Background(), p, conn, day, nil, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestValidate_DetectsDeletedTruncatedAndCorruptedFiles(t *testing.T) {
	t.Parallel()
	tp, p, res := synced(t, 3000)
	day := res.StartedAt
	clean := validateDay(t, p, day)
	if !clean.Passed || len(clean.Partitions) != 3 {
		var buf bytes.Buffer
		validate.Text(&buf, []validate.Result{clean})
		t.Fatalf("freshly synced day fails validation:\n%s", buf.String())
	}
	for _, c := range clean.Partitions {
		if !c.Valid() || c.Report.Results[len(c.Report.Results)-1].Rule == "" {
			t.Errorf("%s: %+v", c.Stream, c.Problems)
		}
	}

	file := func(i int) string { return filepath.Join(tp.LocalRoot(), res.Streams[i].Files[0]) }
	if err := os.Remove(file(0)); err != nil { // diario: deleted
		t.Fatal(err)
	}
	data, err := os.ReadFile(file(1)) // produtos: truncated
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file(1), data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(file(2)) // complemento: one byte changed, size kept
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0x5a
	if err := os.WriteFile(file(2), data, 0o644); err != nil {
		t.Fatal(err)
	}

	broken := validateDay(t, p, day)
	if broken.Passed {
		t.Fatal("a day with damaged files passed validation")
	}
	want := map[string][]string{
		demo.TableDiario:      {"missing: "},
		demo.TableProdutos:    {"size: ", "checksum: ", "parquet: "},
		demo.TableComplemento: {"checksum: "},
	}
	for _, c := range broken.Partitions {
		all := strings.Join(c.Problems, "\n")
		for _, w := range want[c.Stream] {
			if !strings.Contains(all, w) {
				t.Errorf("%s: problems %q lack %q", c.Stream, c.Problems, w)
			}
		}
		if c.Stream == demo.TableComplemento && strings.Contains(all, "size: ") {
			t.Errorf("complemento kept its size: %q", c.Problems)
		}
		if c.Report.Results[0].Rule != "integrity" || c.Report.Results[0].Passed {
			t.Errorf("%s: the failing integrity rule must come first: %+v", c.Stream, c.Report.Results[0])
		}
	}
	var text, md bytes.Buffer
	if err := validate.Text(&text, []validate.Result{broken}); err != nil {
		t.Fatal(err)
	}
	if err := validate.Markdown(&md, []validate.Result{broken}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "FAILED") || !strings.Contains(text.String(), "FAIL    error     integrity") ||
		!strings.Contains(md.String(), "| FAIL | error | `integrity` |") {
		t.Errorf("report:\n%s\n%s", text.String(), md.String())
	}

	missing := validateDay(t, p, day.AddDate(0, 0, -10))
	if missing.Passed || missing.Partitions[0].Status != "missing" {
		t.Errorf("a day never synced: %+v", missing.Partitions[0])
	}
}
