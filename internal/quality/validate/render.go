package validate

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/acode-dev/acode/internal/quality"
)

// Text writes a report for people at a terminal: a verdict line, then per
// stream a table of its rules with the failing ones first.
func Text(w io.Writer, results []Result) error {
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s %s: %s  score %s (threshold %s)\n", r.Connection, r.Date, verdict(r.Passed), pct(r.Score), pct(r.Threshold))
		for _, c := range r.Partitions {
			fmt.Fprintf(w, "\n%s  %s  %s\n", c.Stream, describe(c), c.Partition)
			tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  RESULT\tSEVERITY\tRULE\tMEASURED\tTHRESHOLD\tDETAIL")
			for _, res := range c.Report.Results {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", mark(res), res.Severity, res.Rule, res.Measured, res.Threshold, res.Detail)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, p := range append(slices.Clip(c.Problems), c.StatsDiffs...) {
				fmt.Fprintf(w, "  ! %s\n", p)
			}
		}
	}
	return nil
}

// Markdown writes the same report for a ticket or a pull request.
func Markdown(w io.Writer, results []Result) error {
	for _, r := range results {
		fmt.Fprintf(w, "## %s %s: %s, score %s (threshold %s)\n\n", r.Connection, r.Date, verdict(r.Passed), pct(r.Score), pct(r.Threshold))
		for _, c := range r.Partitions {
			fmt.Fprintf(w, "### %s\n\n%s, `%s`\n\n", c.Stream, describe(c), c.Partition)
			fmt.Fprintln(w, "| result | severity | rule | measured | threshold | detail |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|")
			for _, res := range c.Report.Results {
				fmt.Fprintf(w, "| %s | %s | `%s` | %s | %s | %s |\n", mark(res), res.Severity, res.Rule,
					cell(res.Measured), cell(res.Threshold), cell(res.Detail))
			}
			for _, p := range append(slices.Clip(c.Problems), c.StatsDiffs...) {
				fmt.Fprintf(w, "\n- %s", cell(p))
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func describe(c Check) string {
	if c.Status == "missing" {
		return "MISSING"
	}
	return fmt.Sprintf("%s by job %d (%s), %d files, %d rows, score %s", c.Status, c.JobID, c.Source, c.Files, c.Rows, pct(c.Report.Score))
}

func verdict(ok bool) string {
	if ok {
		return "PASSED"
	}
	return "FAILED"
}

func mark(r quality.Result) string {
	switch {
	case r.Skipped:
		return "skip"
	case r.Passed:
		return "ok"
	case r.Severity == "error":
		return "FAIL"
	}
	return "WARN"
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// CompareText writes a primary-vs-backup comparison, a block per stream.
func CompareText(w io.Writer, day string, cs []Comparison) error {
	for _, c := range cs {
		fmt.Fprintf(w, "%s %s\n", c.Stream, day)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SIDE\tCONNECTION\tSTATUS\tJOB\tFILES\tROWS\tCOMMITTED\tSOURCE")
		for _, s := range []struct {
			name string
			Side
		}{{"primary", c.Primary}, {"backup", c.Backup}} {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", s.name, s.Connection, s.Status, s.JobID, s.Files, s.Rows,
				s.CommittedAt.Format(time.RFC3339), s.SourceHost)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "  row difference: %d\n", c.RowDiff)
		for _, d := range c.Columns {
			if d.Differs {
				fmt.Fprintf(w, "  column %s differs: sum %s vs %s, nulls %d vs %d\n", d.Column, d.PrimarySum, d.BackupSum, d.PrimaryNulls, d.BackupNulls)
			}
		}
		if c.Key != "" {
			fmt.Fprintf(w, "  %s only in primary: %d %s\n", c.Key, c.OnlyPrimary, keyList(c.OnlyPrimaryKeys, c.OnlyPrimary))
			fmt.Fprintf(w, "  %s only in backup:  %d %s\n", c.Key, c.OnlyBackup, keyList(c.OnlyBackupKeys, c.OnlyBackup))
		}
		for _, warn := range c.Warnings {
			fmt.Fprintf(w, "  WARNING: %s\n", warn)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func keyList(keys []string, n int64) string {
	if len(keys) == 0 {
		return ""
	}
	s := "[" + strings.Join(keys, " ")
	if int64(len(keys)) < n {
		s += " ..."
	}
	return s + "]"
}
