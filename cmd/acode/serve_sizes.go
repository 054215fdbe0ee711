package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/state"
)

// tableSizesSchedule is the schedule_fires row of the weekly table sizes:
// the Monday (00:00 UTC) of the last week they were recorded for.
const tableSizesSchedule = "care/table_sizes"

// weekStart is the Monday 00:00 UTC of t's week.
func weekStart(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// weeklyTableSizes records, once per week, information_schema's rows, data
// and index bytes of every table a connection syncs, per source (the
// issue's data growth per table). A source that does not answer has no
// figures that week (logged); when none answers the week is tried again.
func weeklyTableSizes(ctx context.Context, log *slog.Logger, p *config.Project, st *state.Store, now time.Time) error {
	slot := weekStart(now)
	last, err := st.ScheduleFire(ctx, tableSizesSchedule)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if !last.Before(slot) {
		return nil
	}
	sets := sourceTables(p)
	var errs []error
	for _, src := range sets {
		if err := recordSourceSizes(ctx, p, st, src, now); err != nil {
			log.Warn("weekly table sizes: this source has none this week", "source", src.src.ResourceName, "err", err)
			errs = append(errs, err)
			continue
		}
		log.Info("weekly table sizes", "source", src.src.ResourceName, "tables", len(src.tables))
	}
	if len(sets) > 0 && len(errs) == len(sets) {
		return errors.Join(errs...) // none answered: tried again in an hour
	}
	_, err = st.ClaimScheduleFire(ctx, tableSizesSchedule, last, slot)
	return err
}

type sourceTableSet struct {
	src    *config.Source
	tables map[string][]string // by database
}

// sourceTables gathers, per source, the tables its connections' selected
// streams read, sorted by source name.
func sourceTables(p *config.Project) []sourceTableSet {
	by := map[string]*sourceTableSet{}
	for _, name := range p.ConnectionNames() {
		c := p.Connections[name]
		if c.Source == nil {
			continue
		}
		s := by[c.Source.ResourceName]
		if s == nil {
			s = &sourceTableSet{src: c.Source, tables: map[string][]string{}}
			by[c.Source.ResourceName] = s
		}
		for _, st := range c.SelectedStreams() {
			db := st.Namespace
			if db == "" {
				db = c.Source.Database
			}
			if !contains(s.tables[db], st.Name) {
				s.tables[db] = append(s.tables[db], st.Name)
			}
		}
	}
	out := make([]sourceTableSet, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].src.ResourceName < out[j].src.ResourceName })
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func recordSourceSizes(ctx context.Context, p *config.Project, st *state.Store, s sourceTableSet, now time.Time) error {
	db, err := connect.Source(ctx, s.src, p.Settings.Sync, 1)
	if err != nil {
		return fmt.Errorf("table sizes of %s: %w", s.src.ResourceName, err)
	}
	defer db.Close()
	var recs []state.TableSize
	for database, tables := range s.tables {
		sizes, err := mysql.TableSizes(ctx, db, database, tables)
		if err != nil {
			return fmt.Errorf("table sizes of %s: %w", s.src.ResourceName, err)
		}
		for _, z := range sizes {
			recs = append(recs, state.TableSize{Source: s.src.ResourceName, Schema: database, Table: z.Table,
				MeasuredAt: now, Rows: z.Rows, DataLength: z.DataLength, IndexLength: z.IndexLength})
		}
	}
	return st.RecordTableSizes(ctx, recs)
}
