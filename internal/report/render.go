package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Formats Render writes.
const (
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
	FormatHTML     = "html"
)

// Render writes r in format.
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatMarkdown, "":
		_, err := io.WriteString(w, Markdown(r))
		return err
	case FormatHTML:
		return writeHTML(w, r)
	}
	return fmt.Errorf("--format %q: want markdown, json or html", format)
}

// Title names the report, e.g. "ACODE weekly report 2026-11-27 to 2026-12-03".
func (r *Report) Title() string {
	return fmt.Sprintf("ACODE %s report %s to %s", r.Kind, r.From.Format(time.DateOnly), r.To.AddDate(0, 0, -1).Format(time.DateOnly))
}

// Markdown renders r as Markdown tables.
func Markdown(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n## Availability (target %.1f%%)\n\n", r.Title(), AvailabilityTarget*100)
	b.WriteString("| pair | rounds | usable | availability | met | downtime | budget left |\n|---|---|---|---|---|---|---|\n")
	for _, a := range r.Availability {
		fmt.Fprintf(&b, "| %s | %d | %d | %.3f%% | %s | %.1f min | %.1f of %.1f min |\n",
			a.Pair, a.Rounds, a.Usable, a.Share*100, yesNo(a.Met), a.UsedMinutes, a.LeftMinutes, a.BudgetMinutes)
	}
	fmt.Fprintf(&b, "\n## Data freshness (SLA %s)\n\n| target | checks | stale | stale hours | compliance |\n|---|---|---|---|---|\n", FreshnessSLA)
	for _, f := range r.Freshness {
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f | %.2f%% |\n", f.Target, f.Checks, f.Stale, f.StaleHours, f.Compliance*100)
	}
	s := r.Syncs
	fmt.Fprintf(&b, "\n## Syncs\n\n%d jobs, %d succeeded (%d on the backup), %d failed; success rate %.2f%%; %d rows, %d bytes; duration p50 %.1f s, p95 %.1f s.\n\n",
		s.Jobs, s.Succeeded, s.OnBackup, s.Failed, s.SuccessRate*100, s.Rows, s.Bytes, s.P50Seconds, s.P95Seconds)
	b.WriteString("| day | jobs | succeeded | failed | rows | bytes | p50 s | p95 s |\n|---|---|---|---|---|---|---|---|\n")
	for _, d := range r.Days {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %.1f | %.1f |\n", d.Date, d.Jobs, d.Succeeded, d.Failed, d.Rows, d.Bytes, d.P50Seconds, d.P95Seconds)
	}
	fmt.Fprintf(&b, "\n## Failovers (RTO target %s)\n\n", RTOTarget)
	if len(r.Failovers) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| pair | class | by | detected | switched | RTO | met | failed back |\n|---|---|---|---|---|---|---|---|\n")
		for _, f := range r.Failovers {
			back := "-"
			if f.BackAt != nil {
				back = f.BackAt.Format(time.RFC3339)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", f.Pair, f.Class, f.Who, f.DetectedAt.Format(time.RFC3339),
				f.SwitchedAt.Format(time.RFC3339), time.Duration(f.RTOSeconds*float64(time.Second)).Round(time.Second), yesNo(f.RTOMet), back)
		}
	}
	b.WriteString("\n## Quality\n\n| connection | stream | reports | mean score | min score | quarantined |\n|---|---|---|---|---|---|\n")
	for _, q := range r.Quality {
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f | %.2f | %d |\n", q.Connection, q.Stream, q.Reports, q.MeanScore, q.MinScore, q.Quarantined)
	}
	b.WriteString("\n## Storage and growth\n\n| connection | stream | partitions | bytes | new partitions | bytes added | rows before | rows at end |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Storage {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d |\n", s.Connection, s.Stream, s.Partitions, s.Bytes, s.NewInPeriod, s.BytesAdded, s.RowsBefore, s.RowsAtEnd)
	}
	b.WriteString("\n## Source tables (information_schema, weekly)\n\n| source | table | rows before | rows at end | data bytes before | data bytes at end | index bytes at end |\n|---|---|---|---|---|---|---|\n")
	for _, g := range r.Tables {
		fmt.Fprintf(&b, "| %s | %s.%s | %d | %d | %d | %d | %d |\n", g.Source, g.Schema, g.Table, g.RowsBefore, g.RowsAtEnd, g.DataBytesBefore, g.DataBytesAtEnd, g.IndexBytesAtEnd)
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
