package page

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// Cell states of the partition calendar.
const (
	cellCommitted   = "committed"
	cellPromoted    = "promoted"
	cellQuarantined = "quarantined"
	cellMissing     = "missing"
	cellPending     = "pending" // today, not committed yet: the night's run may still come
	cellUnused      = "unused"  // a backup connection's day without a partition: normal while the primary serves
)

// stripView is one stream's last days, oldest first.
type stripView struct {
	Connection, Stream string
	Role               string // primary, backup or "" (no pair)
	Cells              []cell
	Missing            int // days with no partition, today excluded; backups do not count
}

type cell struct {
	Day    string // 2006-01-02
	State  string
	Title  string // tooltip: day, state, rows, job
	Backup bool   // written from the backup source
}

type dayHead struct {
	Day   string // 2006-01-02
	Num   string // day of the month
	Month string // the month's short name, on the 1st and the first column only
}

// dayPattern finds the day in a partition path such as
// .../cog_dt_ingestion=2025-08-07.
var dayPattern = regexp.MustCompile(`(\d{4}-\d{2}-\d{2})`)

// partitionDay is the day a commit's partition holds: the last date in its
// path, or the UTC day it was committed when the path has none.
func partitionDay(c state.Commit) string {
	if m := dayPattern.FindAllString(c.Partition, -1); len(m) > 0 {
		return m[len(m)-1]
	}
	return c.CommittedAt.UTC().Format(time.DateOnly)
}

// days are the UTC days of the strip, oldest first, ending today.
func days(now time.Time, n int) []time.Time {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range n {
		out[i] = today.AddDate(0, 0, i-n+1)
	}
	return out
}

func dayHeads(now time.Time, n int) []dayHead {
	ds := days(now, n)
	out := make([]dayHead, len(ds))
	for i, d := range ds {
		h := dayHead{Day: d.Format(time.DateOnly), Num: d.Format("2")}
		if i == 0 || d.Day() == 1 {
			h.Month = d.Format("Jan")
		}
		out[i] = h
	}
	return out
}

// strips reads the commits of the last days of every connection's streams.
// Backup connections without a partition in the window are left out: the
// backup writing nothing is normal while the primary is healthy.
func (p *Page) strips(ctx context.Context, now time.Time) ([]stripView, error) {
	ds := days(now, p.opts.Days)
	from := ds[0].AddDate(0, 0, -1) // a partition is committed on or after its day
	roles := map[string]string{}
	for _, pr := range p.opts.Pairs {
		roles[pr.Primary], roles[pr.Backup] = "primary", "backup"
	}
	var out []stripView
	for _, name := range p.opts.Project.ConnectionNames() {
		commits, err := p.opts.State.Commits(ctx, name, "", from)
		if err != nil {
			return nil, fmt.Errorf("partitions of %s: %w", name, err)
		}
		if len(commits) == 0 && roles[name] == "backup" {
			continue
		}
		byStream := map[string]map[string]state.Commit{}
		for _, c := range commits {
			if byStream[c.Stream] == nil {
				byStream[c.Stream] = map[string]state.Commit{}
			}
			byStream[c.Stream][partitionDay(c)] = c
		}
		for _, st := range p.opts.Project.Connections[name].SelectedStreams() {
			out = append(out, strip(name, st.Name, roles[name], ds, byStream[st.Name]))
		}
	}
	return out, nil
}

func strip(connection, stream, role string, ds []time.Time, commits map[string]state.Commit) stripView {
	s := stripView{Connection: connection, Stream: stream, Role: role, Cells: make([]cell, len(ds))}
	for i, d := range ds {
		day := d.Format(time.DateOnly)
		c, ok := commits[day]
		cl := cell{Day: day}
		switch {
		case !ok && role == "backup":
			cl.State, cl.Title = cellUnused, day+": the backup wrote nothing (the primary served)"
		case !ok && i == len(ds)-1:
			cl.State, cl.Title = cellPending, day+": not committed yet today"
		case !ok:
			cl.State, cl.Title = cellMissing, day+": no partition"
			s.Missing++
		default:
			cl.State = cellCommitted
			switch c.Status {
			case state.CommitPromoted:
				cl.State = cellPromoted
			case state.CommitQuarantined:
				cl.State = cellQuarantined
			}
			cl.Backup = c.Source == "backup"
			cl.Title = fmt.Sprintf("%s: %s, %d rows, %d files, job %d, from the %s", day, cl.State, c.Rows, c.Files, c.JobID, orUnknown(c.Source))
		}
		s.Cells[i] = cl
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "source"
	}
	return s
}

// utcDays lists the UTC days from from to to, both included, for the
// reconcile a failback leaves due.
func utcDays(from, to *time.Time) []string {
	if from == nil || to == nil {
		return nil
	}
	var out []string
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to.UTC()); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}
