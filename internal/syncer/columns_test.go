package syncer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/testenv"
)

// An override naming a column the table lacks, or a type the column cannot
// take, fails the stream with a configuration error at the entry's line.
func TestSync_BadColumnOverrideIsAConfigErrorAtItsLine(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	m.Exec(t, "CREATE TABLE `"+database+"`.t (id INT PRIMARY KEY, nome VARCHAR(10))", "INSERT INTO `"+database+"`.t VALUES (1, 'a')")
	for _, c := range []struct{ entry, want string }{
		{"t.missing: string", "no such column"},
		{"t.nome: boolean", "not an integer"},
	} {
		p := testenv.NewProject(t, m, database, nil)
		writeConnection(t, p, "connection_t", []family{{table: "t"}})
		p.Settings(t, "chunk_rows: 2000", "columns:", "  "+c.entry)
		_, err := (&fixture{p}).run(t, "connection_t", Options{})
		var ce *config.Error
		if !errors.As(err, &ce) || ce.File != config.SettingsFile || ce.Line != 5 || !strings.HasPrefix(ce.Key, "sync.columns.t.") || !strings.Contains(ce.Msg, c.want) {
			t.Errorf("%s: got %v, want a config error at %s:5 saying %q", c.entry, err, config.SettingsFile, c.want)
		}
	}
}

// With quality.nulled_values_severity: error a stream holding a zero date
// fails its gate and goes to quarantine instead of its partition; the
// result still says how many values and where.
func TestSync_NulledValuesCanBeAnError(t *testing.T) {
	t.Parallel()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{Args: []string{"--sql-mode="}})
	database := m.NewDatabase(t)
	m.Exec(t, "CREATE TABLE `"+database+"`.t (id INT PRIMARY KEY, dt DATE)",
		"INSERT INTO `"+database+"`.t VALUES (1, '2025-08-07'), (2, '2025-00-10'), (3, '0000-00-00')")
	p := testenv.NewProject(t, m, database, nil)
	writeConnection(t, p, "connection_t", []family{{table: "t"}})
	if err := os.WriteFile(filepath.Join(p.Dir, config.SettingsFile),
		[]byte("state_db: .acode/state.db\nquality:\n  nulled_values_severity: error\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := (&fixture{p}).run(t, "connection_t", Options{})
	if !errors.Is(err, quality.ErrValidationFailed) || res == nil || len(res.Streams) != 1 {
		t.Fatalf("got %v, %+v; want the quality gate to fail", err, res)
	}
	st := res.Streams[0]
	if st.Status != snapshot.StatusQuarantined || st.NulledValues["dt"] != 2 || !strings.Contains(st.Error, "nulled_values") {
		t.Errorf("stream %+v: want quarantined with nulled_values dt: 2, named in the error", st)
	}
}
