package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/pairsync"
)

// Exit codes of `acode health`, by the worst result (the seed's monitors
// and Nagios-style probes read them).
const (
	exitHealthWarning  = 1
	exitHealthCritical = 2
)

func newHealthCmd(g *globals) *cobra.Command {
	var asJSON, noFailover bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Run every health check once; exit 0 ok, 1 warning, 2 critical",
		Long: "Runs mysql_connectivity and data_freshness on every source, replication_lag on each backup replica,\n" +
			"last_sync and destination_uploads per connection (a primary and its backup together) and\n" +
			"connection_status, records the results in the state store's health history and prints them.\n" +
			"The results then feed each failover pair's state machine, as one tick of `acode serve`'s health loop\n" +
			"(schedule it every 5 minutes when acode serve does not run); --no-failover only checks.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, st, err := g.projectState(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			o := &pairsync.Orchestrator{Project: p, State: st, Log: g.log}
			results, err := o.CheckHealth(cmd.Context())
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			var decisions []failover.Decision
			if !noFailover {
				if decisions, err = o.ObserveHealth(cmd.Context(), results); err != nil {
					return err
				}
			}
			worst := health.Worst(results)
			if asJSON {
				err = writeHealthJSON(cmd.OutOrStdout(), worst, results, decisions)
			} else {
				err = writeHealthTable(cmd.OutOrStdout(), results, decisions)
			}
			if err != nil {
				return err
			}
			return healthExit(worst)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"status\": worst, \"results\": [...], \"failover\": [...]} as JSON")
	cmd.Flags().BoolVar(&noFailover, "no-failover", false, "only check: do not feed the results to the failover state machines")
	return cmd
}

func healthExit(worst failure.Severity) error {
	switch worst {
	case failure.Critical:
		return &exitError{code: exitHealthCritical, err: errors.New("health: critical"), printed: true}
	case failure.Warning:
		return &exitError{code: exitHealthWarning, err: errors.New("health: warning"), printed: true}
	}
	return nil
}

func writeHealthJSON(w io.Writer, worst failure.Severity, results []health.Result, decisions []failover.Decision) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Status   failure.Severity    `json:"status"`
		Results  []health.Result     `json:"results"`
		Failover []failover.Decision `json:"failover,omitempty"`
	}{worst, results, decisions})
}

func writeHealthTable(w io.Writer, results []health.Result, decisions []failover.Decision) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tTARGET\tSTATUS\tVALUE\tTHRESHOLD\tMESSAGE")
	for _, r := range results {
		msg := r.Message
		if r.Class != "" {
			msg = "[" + string(r.Class) + "] " + msg
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Check, r.Target, r.Status, r.Value, r.Threshold, truncate(msg, 160))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range decisions {
		sync := "nothing"
		if d.Sync != "" {
			sync = d.Sync + " (" + d.Role + ")"
		}
		fmt.Fprintf(w, "\nfailover %s: %s, sync now: %s; %s\n", d.Pair, d.State, sync, d.Reason)
		if d.Transition != nil {
			fmt.Fprintf(w, "  TRANSITION %s -> %s: %s\n", d.Transition.From, d.Transition.To, d.Transition.Reason)
		}
		for _, a := range d.Alerts {
			fmt.Fprintf(w, "  ALERT %s: %s\n", a.Severity, a.Summary)
		}
	}
	return nil
}
