package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

func TestWeeklyTableSizes_RecordsEachSourceTableOncePerWeekFromMariaDB(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 500, nil)
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	log := slog.New(slog.DiscardHandler)
	if err := weeklyTableSizes(ctx, log, proj, st, monday); err != nil {
		t.Fatal(err)
	}
	// Later the same week: already recorded.
	if err := weeklyTableSizes(ctx, log, proj, st, monday.AddDate(0, 0, 3)); err != nil {
		t.Fatal(err)
	}
	recs, err := st.TableSizesBetween(ctx, monday.AddDate(0, 0, -1), monday.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	diario := 0
	for _, r := range recs {
		if !r.MeasuredAt.Equal(monday) {
			t.Errorf("%s measured at %v, want only the Monday's run", r.Table, r.MeasuredAt)
		}
		if r.Table == "farmarcas_si_analitico_diario" && r.Schema == p.Database {
			diario++
			if r.DataLength == 0 {
				t.Errorf("%+v: no data length", r)
			}
		}
	}
	if diario == 0 || len(recs) == 0 {
		t.Fatalf("records %+v", recs)
	}
	sources := map[string]bool{}
	for _, r := range recs {
		sources[r.Source] = true
	}
	// The backup source of the fixture refuses its user: it has no figures,
	// and does not keep the primary's from being recorded once.
	if diario != 1 || !sources["source_mysql_acode"] || sources["source_mysql_acode_backup"] {
		t.Errorf("diario recorded %d times, sources %v; want once, from the primary", diario, sources)
	}
	// The next week is recorded again.
	if err := weeklyTableSizes(ctx, log, proj, st, monday.AddDate(0, 0, 7)); err != nil {
		t.Fatal(err)
	}
	next, err := st.TableSizesBetween(ctx, monday.AddDate(0, 0, 7), monday.AddDate(0, 0, 14))
	if err != nil || len(next) != len(recs) {
		t.Errorf("next week: %d records, %v; want %d", len(next), err, len(recs))
	}
}
