package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/sandbox"
	"github.com/acode-dev/acode/internal/state"
)

// drillPair is the seed's pair; the demo points its S3 destinations at the
// local demo directory.
const drillPair = "connection_mysql_s3_acode"

// failureDrill is the second half of `acode demo`: the primary is killed,
// the health checks turn critical and fail the pair over, a sync reads the
// replica and its partitions are promoted into the primary's layout, the
// primary comes back, the checks fail back after the hysteresis, and the
// next sync reads the primary and reconciles the days the backup covered.
func failureDrill(ctx context.Context, w io.Writer, g *globals, p *config.Project, primary, replica *sandbox.Server) error {
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		return err
	}
	defer st.Close()
	o := &pairsync.Orchestrator{Project: p, State: st, Log: g.log}
	round := func(title string) ([]failover.Decision, error) {
		fmt.Fprintf(w, "== %s\n", title)
		round, err := o.HealthRound(ctx)
		if err != nil {
			return nil, err
		}
		printDrillChecks(w, round.Results)
		for _, d := range round.Decisions {
			if d.Pair == drillPair {
				printDrillDecision(w, d)
			}
		}
		return round.Decisions, nil
	}
	start := time.Now()
	fmt.Fprintf(w, "\n== failure drill on the seed's pair %s / %s_backup (their S3 destinations point at the demo directory)\n", drillPair, drillPair)
	if _, err := round("health checks, both servers up: the replica's replication is measured"); err != nil {
		return err
	}
	fmt.Fprintf(w, "== kill -9 the primary (127.0.0.1:%d)\n", primary.Port)
	if err := primary.Kill(); err != nil {
		return err
	}
	killed := time.Now()
	if _, err := round("health checks after the kill"); err != nil {
		return err
	}
	if err := drillSync(ctx, w, o, "acode sync --source auto "+drillPair+": reads the replica, promotes into the primary's layout"); err != nil {
		return err
	}
	fmt.Fprintf(w, "   primary killed -> backup snapshot committed and promoted in %s\n", time.Since(killed).Round(time.Millisecond))

	fmt.Fprintln(w, "== the primary comes back")
	if err := primary.Restart(); err != nil {
		return err
	}
	if err := replica.WaitCaughtUp(ctx, primary); err != nil {
		return err
	}
	for i := 1; i <= p.Settings.Failover.FailbackAfter; i++ {
		ds, err := round(fmt.Sprintf("health checks, primary healthy (%d of %d for failback)", i, p.Settings.Failover.FailbackAfter))
		if err != nil {
			return err
		}
		if len(ds) > 0 && ds[0].State == failover.PrimaryActive && ds[0].Transition != nil {
			break
		}
	}
	if err := drillSync(ctx, w, o, "acode sync --source auto "+drillPair+": reads the primary again, then reconciles the backup's days"); err != nil {
		return err
	}
	fmt.Fprintf(w, "== drill done in %s; `acode --config %s status` shows the transitions\n", time.Since(start).Round(time.Millisecond), p.Dir)
	return nil
}

func drillSync(ctx context.Context, w io.Writer, o *pairsync.Orchestrator, title string) error {
	fmt.Fprintf(w, "== %s\n", title)
	rep, err := o.Run(ctx, drillPair, pairsync.Options{Source: pairsync.SourceAuto})
	if rep != nil {
		var b strings.Builder
		printPairReport(&b, rep)
		fmt.Fprint(w, "   "+strings.ReplaceAll(strings.TrimSuffix(b.String(), "\n"), "\n", "\n   ")+"\n")
	}
	return err
}

func printDrillChecks(w io.Writer, results []health.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range results {
		if r.Check != health.CheckConnectivity && r.Check != health.CheckReplicationLag {
			continue
		}
		msg := r.Message
		if r.Class != "" {
			msg = "[" + string(r.Class) + "] " + msg
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", r.Check, r.Target, strings.ToUpper(string(r.Status)), truncate(msg, 90))
	}
	_ = tw.Flush()
}

func printDrillDecision(w io.Writer, d failover.Decision) {
	if d.Transition != nil {
		fmt.Fprintf(w, "   TRANSITION %s -> %s: %s\n", d.Transition.From, d.Transition.To, truncate(d.Transition.Reason, 120))
	}
	next := "nothing"
	if d.Sync != "" {
		next = d.Sync
	}
	fmt.Fprintf(w, "   pair %s, next sync reads %s\n", d.State, next)
}
