package drift

import (
	"slices"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
)

func TestCompare_DropsAndRetypesBreak_AddsDoNot(t *testing.T) {
	t.Parallel()
	committed := snapshot.Schema{Columns: []snapshot.Column{
		{Name: "id", MySQLType: "int(11)"},
		{Name: "total", MySQLType: "decimal(15,2)"},
		{Name: "gone", MySQLType: "varchar(10)"},
		{Name: "_airbyte_extracted_at"}, // acode's own column: never compared
	}}
	now := schema.Table{Name: "t", Columns: []schema.Column{
		{Name: "id", ColumnType: "int(11)"},
		{Name: "total", ColumnType: "decimal(18,4)"},
		{Name: "extra", ColumnType: "int(11)"},
	}}
	got := Compare(committed, now)
	want := []Change{
		{Kind: TypeChanged, Column: "total", From: "decimal(15,2)", To: "decimal(18,4)"},
		{Kind: Dropped, Column: "gone"},
		{Kind: Added, Column: "extra"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Compare = %v, want %v", got, want)
	}
	rep := Report{Stream: "t", JobID: 7, Changes: got}
	if b := rep.Breaking(); len(b) != 2 || b[0].Column != "total" || b[1].Column != "gone" {
		t.Errorf("breaking = %v, want the retype and the drop", b)
	}
	msg := (&Error{Connection: "c", Report: rep}).Error()
	if want := "schema of t changed since job 7 of c: column total changed type decimal(15,2) -> decimal(18,4); column gone dropped"; msg != want {
		t.Errorf("error = %q, want %q", msg, want)
	}

	// Only an added column: nothing breaks.
	added := Report{Changes: Compare(committed, schema.Table{Columns: append(slices.Clone(now.Columns[:1]),
		schema.Column{Name: "total", ColumnType: "decimal(15,2)"}, schema.Column{Name: "gone", ColumnType: "varchar(10)"},
		schema.Column{Name: "new", ColumnType: "date"})})}
	if len(added.Changes) != 1 || added.Changes[0] != (Change{Kind: Added, Column: "new"}) || len(added.Breaking()) != 0 {
		t.Errorf("an added column: %v, breaking %v", added.Changes, added.Breaking())
	}
}
