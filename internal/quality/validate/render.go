package validate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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
			for _, p := range c.Problems {
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
			for _, p := range c.Problems {
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
