package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/state"
)

func newValidateCmd(g *globals) *cobra.Command {
	var (
		date, connection   string
		asJSON, asMarkdown bool
		compareBackup      bool
		deep, restore      bool
	)
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Data-quality report of a day's partitions; exit 1 below the score threshold",
		Long: "Re-checks each stream's partition of the day against its manifest: every file present with the\n" +
			"recorded size and SHA-256, readable as Parquet with the recorded rows and schema; re-runs the\n" +
			"quality rules of acode.yaml on the statistics gathered when the files were written, and reports\n" +
			"a latest job that was quarantined. --deep re-reads every row of the files, recomputes the statistics,\n" +
			"reports each difference from the manifest's (stream, column, stored and recomputed value) and runs\n" +
			"the rules on the recomputed ones. Exit 0 when every connection scores at least\n" +
			"quality.score_threshold with no failing error rule, 1 otherwise.\n" +
			"--compare-backup compares the primary connection's partitions with its backup's instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON && asMarkdown {
				return &exitError{code: exitConfig, err: errors.New("--json and --markdown exclude each other")}
			}
			day, err := parseDay(date)
			if err != nil {
				return err
			}
			p, st, err := g.projectState(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if compareBackup {
				return runCompare(cmd, p, st, connection, day, asJSON, asMarkdown)
			}
			conns, err := validateTargets(cmd, p, st, connection, day)
			if err != nil {
				return err
			}
			var results []validate.Result
			passed := true
			for _, c := range conns {
				r, err := validate.Day(cmd.Context(), p, c, day, st, validate.Options{Deep: deep})
				if err != nil {
					return err
				}
				results = append(results, r)
				passed = passed && r.Passed
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				err = enc.Encode(map[string]any{"date": day.Format(time.DateOnly), "passed": passed, "connections": results})
			case asMarkdown:
				err = validate.Markdown(out, results)
			default:
				err = validate.Text(out, results)
			}
			if err != nil {
				return err
			}
			if !passed && restore && restoreDays(cmd, g, p, st, results, day) {
				return nil // every corrupt day of a pair's primary was restored and validates
			}
			if !passed {
				return &exitError{code: exitFailed, err: errors.New("validation failed"), printed: true}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&restore, "restore", false, "restore a failover pair's primary day found corrupt from its backup, "+
		"as failover.strategies.data_corruption (full_backup_restore) says")
	cmd.Flags().StringVar(&date, "date", "", "day to validate, YYYY-MM-DD (default: today, UTC)")
	cmd.Flags().StringVar(&connection, "connection", "", "connection to validate (default: every connection with a commit that day)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&asMarkdown, "markdown", false, "print the report as Markdown, for a ticket")
	cmd.Flags().BoolVar(&deep, "deep", false, "re-read the files and recompute the statistics (one full read of each partition)")
	cmd.Flags().BoolVar(&compareBackup, "compare-backup", false, "compare the primary's partitions with the backup connection's")
	return cmd
}

// restoreDays hands each pair primary's failing streams of day to the
// pair's data_corruption strategy and reports what it did on stderr. It
// returns true when every failing connection was restored.
func restoreDays(cmd *cobra.Command, g *globals, p *config.Project, st *state.Store, results []validate.Result, day time.Time) bool {
	o := &pairsync.Orchestrator{Project: p, State: st, Log: g.log}
	all := true
	for _, r := range results {
		var broken, problems []string
		for _, c := range r.Partitions {
			errs := c.Report.Errors()
			if c.Valid() && len(errs) == 0 {
				continue
			}
			broken = append(broken, c.Stream)
			problems = append(problems, c.Problems...)
			for _, e := range errs {
				problems = append(problems, c.Stream+": rule "+e.Rule+" failed")
			}
		}
		if len(broken) == 0 {
			all = all && r.Passed
			continue
		}
		rep, err := o.RestoreDay(cmd.Context(), r.Connection, day, broken, errors.New(strings.Join(problems, "; ")))
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: not restored: %v\n", r.Connection, err)
			all = false
			continue
		}
		for _, x := range rep.Restored {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s restored from backup job %d (%d rows), validated\n", r.Connection, x.Partition, x.BackupJob, x.Rows)
		}
	}
	return all
}

// parseDay reads --date; empty is today in UTC, as partitions are named.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		now := time.Now().UTC()
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &exitError{code: exitConfig, err: fmt.Errorf("--date %q: want YYYY-MM-DD", s)}
	}
	return d, nil
}

// validateTargets is the named connection, or every connection the state
// store has a commit of on day.
func validateTargets(cmd *cobra.Command, p *config.Project, st *state.Store, name string, day time.Time) ([]*config.Connection, error) {
	if name != "" {
		c, err := p.Connection(name)
		if err != nil {
			return nil, &exitError{code: exitConfig, err: err}
		}
		return []*config.Connection{c}, nil
	}
	var out []*config.Connection
	for _, n := range p.ConnectionNames() {
		c := p.Connections[n]
		for _, s := range c.SelectedStreams() {
			l := validate.StreamLayout(c, s, day)
			if _, err := st.Commit(cmd.Context(), c.ResourceName, s.Name, l.Partition); err == nil {
				out = append(out, c)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, &exitError{code: exitConfig, err: fmt.Errorf("no connection committed anything on %s; name one with --connection", day.Format(time.DateOnly))}
	}
	return out, nil
}

// runCompare compares the primary connection(s) with their backups.
func runCompare(cmd *cobra.Command, p *config.Project, _ *state.Store, name string, day time.Time, asJSON, asMarkdown bool) error {
	pairs, err := p.FailoverPairs()
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	var all []validate.Comparison
	found := false
	for _, pr := range pairs {
		if name != "" && pr.Primary != name && pr.Backup != name {
			continue
		}
		found = true
		primary, backup := p.Connections[pr.Primary], p.Connections[pr.Backup]
		pStore, err := connect.Store(cmd.Context(), primary.Destination)
		if err != nil {
			return err
		}
		bStore, err := connect.Store(cmd.Context(), backup.Destination)
		if err != nil {
			return err
		}
		cs, err := validate.Compare(cmd.Context(), pStore, bStore, p.Settings.Quality, primary, backup, day)
		if err != nil {
			return err
		}
		all = append(all, cs...)
	}
	if !found {
		return &exitError{code: exitConfig, err: fmt.Errorf("no failover pair with connection %q", name)}
	}
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(map[string]any{"date": day.Format(time.DateOnly), "streams": all})
	} else {
		err = validate.CompareText(out, day.Format(time.DateOnly), all)
	}
	if err != nil {
		return err
	}
	for _, c := range all {
		if len(c.Warnings) > 0 {
			return &exitError{code: exitFailed, err: errors.New("primary and backup differ"), printed: true}
		}
	}
	return nil
}
