package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/state"
)

// pairMachines opens the state store and the failover machine of each pair
// (only the one named, when name is not empty). The caller closes the store.
func pairMachines(cmd *cobra.Command, g *globals, name string) (*config.Project, *state.Store, []*failover.Machine, []failover.Pair, error) {
	p, err := g.project()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	pairs, err := failover.PairsFrom(p)
	if err != nil {
		return nil, nil, nil, nil, &exitError{code: exitConfig, err: err}
	}
	if name != "" {
		var keep []failover.Pair
		for _, pr := range pairs {
			if pr.Primary == name || pr.Backup == name {
				keep = append(keep, pr)
			}
		}
		if len(keep) == 0 {
			return nil, nil, nil, nil, &exitError{code: exitConfig, err: fmt.Errorf("%q is in no failover pair (pairs: %s)", name, pairNames(pairs))}
		}
		pairs = keep
	}
	if len(pairs) == 0 {
		return nil, nil, nil, nil, &exitError{code: exitConfig, err: fmt.Errorf(
			"no failover pairs: add a connection <name>_backup or failover.pairs in %s", config.SettingsFile)}
	}
	st, err := state.Open(cmd.Context(), p.Settings.StateDB)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	pol := failover.PolicyFrom(p.Settings.Failover)
	ms := make([]*failover.Machine, len(pairs))
	for i, pr := range pairs {
		ms[i] = failover.New(st, pr, pol)
	}
	return p, st, ms, pairs, nil
}

func pairNames(pairs []failover.Pair) string {
	names := make([]string, len(pairs))
	for i, p := range pairs {
		names[i] = p.Primary + "/" + p.Backup
	}
	return strings.Join(names, ", ")
}

// cliWho names the person at the terminal for the transition history.
func cliWho() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli:unknown"
}

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [CONNECTION]",
		Short: "Show the active source of each failover pair, since when and why, the last checks and jobs; and each other connection's last jobs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			st, err := state.Open(cmd.Context(), p.Settings.StateDB)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			checks, err := st.LatestHealth(ctx)
			if err != nil {
				return err
			}
			rep, err := failover.ReportOf(ctx, st, p, firstArg(args), failover.StatusOptions{Transitions: 5, Jobs: 3, Health: checks})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			writeReport(cmd.OutOrStdout(), rep, time.Now())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeReport(w io.Writer, rep failover.Report, now time.Time) {
	if rep.NoPairs != "" {
		fmt.Fprintf(w, "No failover pairs (add a connection <name>_backup or failover.pairs in %s).\n\n", config.SettingsFile)
	}
	for _, ps := range rep.Pairs {
		writePairStatus(w, ps, now)
	}
	for _, c := range rep.Connections {
		writeConnectionStatus(w, c)
	}
}

func writeConnectionStatus(w io.Writer, c failover.ConnectionReport) {
	fmt.Fprintf(w, "Connection %s (in no failover pair)\n", c.Connection)
	writeScratch(w, c.Scratch)
	if len(c.Jobs) == 0 {
		fmt.Fprintln(w, "  jobs:     none yet")
	}
	writeJobs(w, c.Jobs)
	fmt.Fprintln(w)
}

func writeJobs(w io.Writer, jobs []state.Job) {
	if len(jobs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\n  JOB\tCONNECTION\tSOURCE\tSTATUS\tCREATED\tFAILOVER\tERROR")
	chain := chainNotes(jobs)
	for _, j := range jobs {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Connection, j.Source, j.Status, j.CreatedAt.Format(time.RFC3339), chain[j.ID], truncate(j.Error, 80))
	}
	_ = tw.Flush()
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func writeScratch(w io.Writer, dirs []scratch.JobDir) {
	if len(dirs) == 0 {
		fmt.Fprintln(w, "  scratch:  none")
		return
	}
	var total int64
	ids := make([]string, len(dirs))
	for i, d := range dirs {
		total += d.Bytes
		ids[i] = strconv.FormatInt(d.JobID, 10)
	}
	fmt.Fprintf(w, "  scratch:  %.1f MiB in %s (jobs %s)\n", float64(total)/(1<<20), filepath.Dir(filepath.Dir(dirs[0].Path)), strings.Join(ids, ", "))
}

func writePairStatus(w io.Writer, ps failover.PairReport, now time.Time) {
	d, fs := ps.Decision, ps.State
	fmt.Fprintf(w, "Pair %s (backup %s)\n", ps.Pair.Primary, ps.Pair.Backup)
	fmt.Fprintf(w, "  state:    %s since %s (%s ago), by %s\n", d.State, fs.Since.Format(time.RFC3339),
		now.Sub(fs.Since).Round(time.Second), fs.Who)
	fmt.Fprintf(w, "  why:      %s\n", fs.Reason)
	if d.Sync != "" {
		fmt.Fprintf(w, "  sync now: %s (%s)\n", d.Sync, d.Role)
	} else {
		fmt.Fprintf(w, "  sync now: nothing: %s\n", d.Reason)
	}
	if fs.Failures > 0 {
		fmt.Fprintf(w, "  primary:  %d consecutive failure(s), last %s: %s\n", fs.Failures, fs.LastClass, fs.LastError)
	}
	switch {
	case fs.BackupReplicating == nil:
		fmt.Fprintln(w, "  backup:   replication not measured yet")
	case *fs.BackupReplicating && fs.BackupLagSeconds != nil:
		fmt.Fprintf(w, "  backup:   replicating, %ds behind (measured %s)\n", *fs.BackupLagSeconds, fs.BackupCheckedAt.Format(time.RFC3339))
	case *fs.BackupReplicating:
		fmt.Fprintln(w, "  backup:   replicating")
	default:
		fmt.Fprintf(w, "  backup:   not usable: %s\n", fs.BackupProblem)
	}
	if fs.BackupUnreachable != "" {
		fmt.Fprintf(w, "  backup:   unreachable: %s\n", fs.BackupUnreachable)
	}
	if len(d.ReconcileDays) > 0 {
		fmt.Fprintf(w, "  reconcile due for: %s\n", strings.Join(d.ReconcileDays, ", "))
	}
	writeScratch(w, ps.Scratch)
	for _, a := range d.Alerts {
		fmt.Fprintf(w, "  ALERT %s: %s\n", a.Severity, a.Summary)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(ps.Transitions) > 0 {
		fmt.Fprintln(tw, "\n  TRANSITION\tFROM\tTO\tWHO\tCLASS\tWHY")
		for _, t := range ps.Transitions {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", t.At.Format(time.RFC3339), t.From, t.To, t.Who, t.Class, truncate(t.Reason, 100))
		}
	}
	if len(ps.Checks) > 0 {
		fmt.Fprintln(tw, "\n  CHECK\tTARGET\tSTATUS\tVALUE\tAT\tMESSAGE")
		for _, c := range ps.Checks {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.Check, c.Target, c.Status, c.Value, c.Time.Format(time.RFC3339), truncate(c.Message, 100))
		}
	}
	_ = tw.Flush()
	writeJobs(w, ps.Jobs)
	fmt.Fprintln(w)
}

func newFailoverCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "failover [CONNECTION]",
		Short: "Switch a pair to its backup by hand (recorded with who and why); only `acode failback` undoes it",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return manualSwitch(cmd, g, firstArg(args), func(m *failover.Machine) (failover.Decision, error) {
				return m.Failover(cmd.Context(), cliWho(), reason)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the transition history")
	return cmd
}

func newFailbackCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "failback [CONNECTION]",
		Short: "Switch a pair back to its primary by hand (also resumes a halted pair)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return manualSwitch(cmd, g, firstArg(args), func(m *failover.Machine) (failover.Decision, error) {
				return m.Failback(cmd.Context(), cliWho(), reason)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the transition history")
	return cmd
}

func manualSwitch(cmd *cobra.Command, g *globals, name string, do func(*failover.Machine) (failover.Decision, error)) error {
	_, st, ms, pairs, err := pairMachines(cmd, g, name)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(ms) > 1 {
		return &exitError{code: exitConfig, err: fmt.Errorf("several failover pairs (%s): name one", pairNames(pairs))}
	}
	d, err := do(ms[0])
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if d.Transition == nil {
		fmt.Fprintf(w, "%s: already %s; nothing changed\n", d.Pair, d.State)
	} else {
		fmt.Fprintf(w, "%s: %s -> %s by %s: %s\n", d.Pair, d.Transition.From, d.Transition.To, d.Transition.Who, d.Transition.Reason)
	}
	if d.Sync != "" {
		fmt.Fprintf(w, "next sync reads %s (%s)\n", d.Sync, d.Role)
	} else {
		fmt.Fprintf(w, "nothing will be synced: %s\n", d.Reason)
	}
	if len(d.ReconcileDays) > 0 {
		fmt.Fprintf(w, "reconcile due for: %s\n", strings.Join(d.ReconcileDays, ", "))
	}
	return nil
}
