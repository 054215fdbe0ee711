package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/humanize"
	"github.com/acode-dev/acode/internal/state"
)

func newJobsCmd(g *globals) *cobra.Command {
	var (
		asJSON     bool
		limit      int
		connection string
	)
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List recent jobs from the state store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, st, err := g.projectState(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			jobs, err := st.ListJobs(cmd.Context(), state.JobFilter{Connection: connection, Limit: limit})
			if err != nil {
				return err
			}
			listed := make([]jobWithStreams, len(jobs))
			for i, j := range jobs {
				listed[i].Job = j
				if listed[i].Streams, err = st.StreamResults(cmd.Context(), j.ID); err != nil {
					return err
				}
			}
			if asJSON {
				writeJSON(listed)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "JOB\tCONNECTION\tSOURCE\tSTATUS\tCREATED\tROWS\tBYTES\tFAILOVER\tSTREAMS\tERROR")
			chain := chainNotes(jobs)
			for _, j := range listed {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", j.ID, j.Connection, j.Source, j.Status,
					j.CreatedAt.Format("2006-01-02 15:04:05Z"), j.Rows, humanize.Bytes(j.Bytes), chain[j.ID], streamStatuses(j.Streams), truncate(j.Error, 80))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many jobs")
	cmd.Flags().StringVar(&connection, "connection", "", "only this connection's jobs")
	return cmd
}

// jobWithStreams is a job as `acode jobs --json` prints it: the job's
// fields and, under Streams, every selected stream's name, status and error.
type jobWithStreams struct {
	state.Job
	Streams []state.StreamResult
}

// streamStatuses is "name status" per stream, e.g. "a committed, b failed".
func streamStatuses(rs []state.StreamResult) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Stream + " " + r.Status
	}
	return strings.Join(parts, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// chainNotes says, per listed job, how an in-job failover linked it:
// "continued by N" on the failed primary job, "continues N" on the
// backup's job that took over ("-" otherwise). Airflow polls the first id
// and reads the last job's outcome; the list shows each job as it ran.
func chainNotes(jobs []state.Job) map[int64]string {
	notes := make(map[int64]string, len(jobs))
	for _, j := range jobs {
		if notes[j.ID] == "" {
			notes[j.ID] = "-"
		}
		if j.ContinuedBy != 0 {
			notes[j.ID] = fmt.Sprintf("continued by %d", j.ContinuedBy)
			notes[j.ContinuedBy] = fmt.Sprintf("continues %d", j.ID)
		}
	}
	return notes
}
