package config

import (
	"testing"
)

func TestLoad_SyncColumnsOverrides(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", "sync:\n  columns:\n    t1.ativo: boolean\n    t1.dt.x: STRING\n"})
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Settings.Sync.ColumnOverrides("t1")
	want := []ColumnOverride{{Stream: "t1", Column: "ativo", Type: "boolean", Line: 3}, {Stream: "t1", Column: "dt.x", Type: "string", Line: 4}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ColumnOverrides(t1) = %+v, want %+v", got, want)
	}
	if got[0].Key() != "sync.columns.t1.ativo" {
		t.Errorf("Key() = %q", got[0].Key())
	}
}

// Each bad entry is reported with its line and key, all at once.
func TestLoad_SyncColumnsBadEntriesAreLocated(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", "sync:\n  columns:\n    nodot: boolean\n    t1.a: uuid\n    nostream.a: string\n    t1.b: [boolean]\n"})
	_, err := Load(dir, minimalEnv)
	errs := Errors(err)
	want := map[string]int{"sync.columns.nodot": 3, "sync.columns.t1.a": 4, "sync.columns.nostream.a": 5, "sync.columns.t1.b": 6}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(errs), err, len(want))
	}
	for _, e := range errs {
		if line, ok := want[e.Key]; !ok || e.Line != line || e.File != SettingsFile {
			t.Errorf("error %v: want one of %v at its line in %s", e, want, SettingsFile)
		}
	}
}
