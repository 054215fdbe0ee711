package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/reconcile"
	"github.com/acode-dev/acode/internal/state"
)

func newReconcileCmd(g *globals) *cobra.Command {
	var (
		from, to, connection string
		dryRun, asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "reconcile --date D [--to D2]",
		Short: "After a recovery: promote the backup's snapshot where the primary's day is missing, damaged or quarantined; merge partial incremental days",
		Long: "For each day from --date to --to (default: that one day) and each stream of the primary connection,\n" +
			"checks the primary partition against its manifest and the state store; where it is missing, damaged\n" +
			"(a file gone or not matching) or its latest job was quarantined, and the backup connection's partition\n" +
			"of the day is intact, promotes the backup snapshot into the primary's layout through the commit\n" +
			"protocol (server-side copy, manifest status promoted). For an incremental stream whose primary\n" +
			"partition is intact but partial (the backup's holds keys it lacks or newer versions of them), merges\n" +
			"both sides by primary key, the greatest cursor winning, into a new snapshot (status promoted, the\n" +
			"manifest's merge record says what came from where). Valid, complete days are left alone: a second\n" +
			"run changes nothing. Exit 1 when a broken day could not be repaired.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return &exitError{code: exitConfig, err: errors.New("--date is required")}
			}
			first, err := parseDay(from)
			if err != nil {
				return err
			}
			last := first
			if to != "" {
				if last, err = parseDay(to); err != nil {
					return err
				}
			}
			if last.Before(first) || last.Sub(first) > 366*24*time.Hour {
				return &exitError{code: exitConfig, err: fmt.Errorf("--to %s must be within a year after --date %s", to, from)}
			}
			var days []time.Time
			for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
				days = append(days, d)
			}
			p, err := g.project()
			if err != nil {
				return err
			}
			pairs, err := reconcilePairs(p, connection)
			if err != nil {
				return err
			}
			st, err := state.Open(cmd.Context(), p.Settings.StateDB)
			if err != nil {
				return err
			}
			defer st.Close()
			r := &reconcile.Reconciler{Project: p, State: st, Log: g.log, DryRun: dryRun}
			var all []reconcile.Action
			for _, pr := range pairs {
				acts, err := r.Days(cmd.Context(), p.Connections[pr.Primary], p.Connections[pr.Backup], days)
				all = append(all, acts...)
				if err != nil {
					return err
				}
			}
			if err := printActions(cmd, all, asJSON); err != nil {
				return err
			}
			for _, a := range all {
				if a.Unrepaired() {
					return &exitError{code: exitFailed, err: errors.New("some days could not be repaired"), printed: true}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "date", "", "first day to reconcile, YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last day of a range, YYYY-MM-DD (default: --date)")
	cmd.Flags().StringVar(&connection, "connection", "", "primary connection (default: every failover pair)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be promoted, change nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the actions as JSON")
	return cmd
}

func reconcilePairs(p *config.Project, name string) ([]config.FailoverPair, error) {
	pairs, err := p.FailoverPairs()
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	var out []config.FailoverPair
	for _, pr := range pairs {
		if name == "" || pr.Primary == name {
			out = append(out, pr)
		}
	}
	if len(out) == 0 {
		return nil, &exitError{code: exitConfig, err: fmt.Errorf("no failover pair whose primary is %q", name)}
	}
	return out, nil
}

func printActions(cmd *cobra.Command, acts []reconcile.Action, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"actions": acts})
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tSTREAM\tPRIMARY\tBACKUP\tDID\tROWS\tDETAIL")
	for _, a := range acts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.Day, a.Stream, a.Primary, a.Backup, a.Did, a.Rows, a.Detail)
	}
	return tw.Flush()
}
