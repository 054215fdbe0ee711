package syncer

import (
	"errors"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
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
