package quality

import (
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/schema"
)

// The EAN key set of analitico_diario is gathered only when the job also
// reads the produtos stream it is compared with; produtos gathers its side
// only when diario is in the job.
func TestJob_GathersKeySetsOnlyForStreamsOfTheJob(t *testing.T) {
	t.Parallel()
	const diario, produtos = "farmarcas_si_analitico_diario", "farmarcas_si_analitico_diario_produtos"
	settings := config.DefaultSettings(t.TempDir()).Quality
	settings.Enabled = true
	if rules, _ := settings.Rules(diario); len(rules.References) == 0 {
		t.Fatalf("default rules of %s have no reference to check", diario)
	}
	table := func(name string) schema.Table {
		return schema.Table{Namespace: "acode", Name: name, PrimaryKey: []string{"idpk"}, Columns: []schema.Column{
			{Name: "idpk", DataType: "bigint", ColumnType: "bigint(20)"},
			{Name: "EAN", DataType: "varchar", ColumnType: "varchar(20)", Nullable: true, MaxLength: 20},
		}}
	}
	for _, tc := range []struct {
		name    string
		streams []string
		want    map[string]bool // stream: EAN key set gathered
	}{
		{"diario alone", []string{diario}, map[string]bool{diario: false}},
		{"produtos alone", []string{produtos}, map[string]bool{produtos: false}},
		{"both", []string{diario, produtos}, map[string]bool{diario: true, produtos: true}},
	} {
		j := NewJob(settings, "2026-11-28", tc.streams, true)
		for _, name := range tc.streams {
			s, err := j.Begin(name, table(name), []string{"idpk"})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.gatherer.Keys("EAN") != nil; got != tc.want[name] {
				t.Errorf("%s: %s gathers EAN keys = %v, want %v", tc.name, name, got, tc.want[name])
			}
		}
	}
}
