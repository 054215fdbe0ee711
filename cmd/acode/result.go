package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/acode-dev/acode/internal/humanize"
	"github.com/acode-dev/acode/internal/syncer"
)

func printResult(w io.Writer, r *syncer.Result) {
	fmt.Fprintf(w, "job %d of %s %s in %.1fs (%d attempt(s)): %d rows, %s\n",
		r.JobID, r.Connection, r.Status, r.Duration, r.Attempts, r.Rows, humanize.Bytes(r.Bytes))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tSTATUS\tROWS\tBYTES\tFILES\tPARTITION")
	for _, s := range r.Streams {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", s.Name, s.Status, s.Rows, humanize.Bytes(s.Bytes), len(s.Files), s.Partition)
	}
	tw.Flush()
	for _, s := range r.Streams {
		if len(s.NulledValues) > 0 {
			fmt.Fprintf(w, "warning: %s: %s written as NULL: zero or partial zero dates have no Parquet form (README, Types)\n",
				s.Name, nulledList(s.NulledValues))
		}
	}
	if r.Error != "" {
		fmt.Fprintln(w, "error:", r.Error)
	}
}

// nulledList renders per-column counts as "dt 3, dtm 1", by column name.
func nulledList(counts map[string]int64) string {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", c, counts[c]))
	}
	return strings.Join(parts, ", ")
}
