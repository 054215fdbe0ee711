package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/state"
)

func newCDCCompactCmd(g *globals) *cobra.Command {
	var (
		day    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "compact CONNECTION [--day D]",
		Short: "Build each CDC stream's day snapshot (STREAM/cog_dt_ingestion=DAY/): the newest row per key of the previous day's snapshot and the day's changes, deletes left out",
		Long: "For each landed stream of CONNECTION, brings the snapshot partitions up to --day (default: yesterday,\n" +
			"UTC): every day from the last snapshot still current with its change log (or from the last backfill)\n" +
			"is rebuilt from the previous day's snapshot plus the day's change log, newest version per primary key\n" +
			"by GTID, deletes left out, and committed through the manifest protocol. A day whose inputs did not\n" +
			"change since its snapshot was built is left alone, so a second run changes nothing.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
			if day != "" {
				var err error
				if d, err = time.Parse(time.DateOnly, day); err != nil {
					return &exitError{code: exitConfig, err: fmt.Errorf("--day %q: want YYYY-MM-DD", day)}
				}
			}
			p, err := g.project()
			if err != nil {
				return err
			}
			st, err := state.Open(cmd.Context(), p.Settings.StateDB)
			if err != nil {
				return err
			}
			defer st.Close()
			c := &cdc.Compactor{Project: p, Log: g.log, State: st}
			res, err := c.Compact(cmd.Context(), args[0], d)
			if perr := printCompaction(cmd, res, asJSON); perr != nil {
				return perr
			}
			switch {
			case errors.Is(err, cdc.ErrNotCDC), errors.Is(err, cdc.ErrNoCompactionBase):
				return &exitError{code: exitConfig, err: err}
			case errors.Is(err, cdc.ErrCompactionRunning):
				return &exitError{code: exitBusy, err: err}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&day, "day", "", "last day to compact, YYYY-MM-DD (default: yesterday, UTC)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was done as JSON")
	return cmd
}

func printCompaction(cmd *cobra.Command, res []cdc.CompactResult, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"days": res})
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tSTREAM\tDID\tROWS\tCHANGES\tDELETED\tPASSES\tBASE")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.Day, r.Stream, r.Did, r.Rows, r.Changes, r.Deleted, r.Passes, r.Base)
	}
	return tw.Flush()
}
