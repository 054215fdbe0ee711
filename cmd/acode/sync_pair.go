package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/syncer"
)

// exitNotSynced: `acode sync --source auto` found the pair halted, waiting
// out the primary's backoff, or with both sides unavailable.
const exitNotSynced = 6

// pairResult is what `acode sync --source ... --json` prints: the last
// job's result, as without --source, plus what the failover did.
type pairResult struct {
	*syncer.Result
	Failover *pairsync.Report `json:"failover"`
}

// syncPair runs `acode sync --source ...`.
func syncPair(cmd *cobra.Command, g *globals, o *pairsync.Orchestrator, connection string, opts pairsync.Options, asJSON bool) error {
	progress := syncer.NewProgress()
	opts.Progress = progress
	stopProgress := showProgress(cmd.Context(), g.stderr, progress, g.log)
	rep, err := o.Run(cmd.Context(), connection, opts)
	stopProgress()
	if rep == nil {
		if errors.Is(err, pairsync.ErrNotInPair) {
			return &exitError{code: exitConfig, err: fmt.Errorf("%w: --source needs a connection with a <name>_backup connection or failover.pairs in %s", err, config.SettingsFile)}
		}
		return err
	}
	if asJSON {
		writeJSON(pairResult{Result: rep.Last(), Failover: rep})
	} else {
		printPairReport(cmd.OutOrStdout(), rep)
	}
	if err == nil {
		return nil
	}
	code := exitCode(err)
	var nse *pairsync.NotSyncedError
	if errors.As(err, &nse) {
		code = exitNotSynced
	}
	return &exitError{code: code, err: err, printed: asJSON && !errors.Is(err, context.Canceled)}
}

func printPairReport(w io.Writer, rep *pairsync.Report) {
	for _, d := range rep.Decisions {
		if d.Transition != nil {
			fmt.Fprintf(w, "failover %s: %s -> %s by %s: %s\n", d.Pair, d.Transition.From, d.Transition.To, d.Transition.Who, d.Transition.Reason)
		}
		for _, a := range d.Alerts {
			fmt.Fprintf(w, "ALERT %s: %s\n", a.Severity, a.Summary)
		}
	}
	for _, j := range rep.Jobs {
		printResult(w, j)
	}
	for _, p := range rep.Promotions {
		if p.Skipped != "" {
			fmt.Fprintf(w, "promotion of %s skipped: %s\n", p.From, p.Skipped)
			continue
		}
		fmt.Fprintf(w, "promoted %s (job %d, %d rows, %s copy) -> %s\n", p.From, p.JobID, p.Rows, p.Copy, p.To)
	}
	if rep.FailoverAfter > 0 {
		fmt.Fprintf(w, "failed over inside the run: the backup committed %s after the primary's job failed\n", rep.FailoverAfter.Round(time.Millisecond))
	}
	for _, a := range rep.Reconcile {
		fmt.Fprintf(w, "reconcile %s %s: primary %s, backup %s: %s\n", a.Day, a.Stream, a.Primary, a.Backup, a.Did)
	}
	if len(rep.Reconciled) > 0 {
		fmt.Fprintf(w, "reconciled after the failback: %s\n", strings.Join(rep.Reconciled, ", "))
	}
	if d := rep.Decision(); d.Pair != "" {
		next := "nothing: " + d.Reason
		if d.Sync != "" {
			next = d.Sync + " (" + d.Role + ")"
		}
		fmt.Fprintf(w, "pair %s is %s; next sync reads %s\n", d.Pair, d.State, next)
	}
}

// roleOf is "backup" for the backup connection of a failover pair, else
// "primary": what manifests and job records say about the source.
func roleOf(p *config.Project, connection string) string {
	pairs, err := failover.PairsFrom(p)
	if err != nil {
		return "primary"
	}
	conn, err := p.Connection(connection)
	if err != nil {
		return "primary"
	}
	for _, pr := range pairs {
		if pr.Backup == conn.ResourceName {
			return "backup"
		}
	}
	return "primary"
}
