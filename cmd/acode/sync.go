package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/syncer"
)

func newSyncCmd(g *globals) *cobra.Command {
	var (
		asJSON      bool
		attempts    int
		retryDelay  time.Duration
		source      string
		checkHealth bool
	)
	cmd := &cobra.Command{
		Use:   "sync CONNECTION",
		Short: "Run one sync job of a connection now",
		Long: `Run one sync job: read the connection's selected streams from MySQL, write
Parquet parts, and commit each stream's partition (manifest, then _SUCCESS).

With --source, CONNECTION names a failover pair (either of its connections)
and the pair's job policy applies (acode.yaml jobs: retries, retry_delay,
max_duration): auto syncs the side the failover state machine names, fails
over to the backup inside the run when the primary dies under the job,
promotes what the backup wrote into the primary's layout, and runs the
reconcile a failback asks for; primary and backup sync that side by hand.

The exit code says how it ended: 0 succeeded, 1 failed, 2 configuration,
3 source (MySQL), 4 destination, 5 another job of the connection is running,
6 the failover state allows no sync now (halted, backoff, both unavailable).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, st, err := g.projectState(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			defer pruneEnded(context.WithoutCancel(cmd.Context()), g.log, p, st) // after the job, before the store closes
			limitSyncMemory(p, args[0])
			if source != "" {
				return syncPair(cmd, g, &pairsync.Orchestrator{Project: p, State: st, Log: g.log}, args[0],
					pairsync.Options{Source: source, HealthFirst: checkHealth && source == pairsync.SourceAuto}, asJSON)
			}
			progress := syncer.NewProgress()
			stopProgress := showProgress(cmd.Context(), g.stderr, progress, g.log)
			s := &syncer.Syncer{Project: p, State: st, Log: g.log}
			res, err := s.Run(cmd.Context(), args[0], syncer.Options{
				Role: roleOf(p, args[0]), Progress: progress, MaxAttempts: attempts, RetryDelay: retryDelay,
			})
			stopProgress()
			if res != nil {
				if asJSON {
					writeJSON(res)
				} else {
					printResult(cmd.OutOrStdout(), res)
				}
			}
			if err != nil && res != nil {
				return &exitError{code: exitCode(err), err: err, printed: asJSON && !errors.Is(err, context.Canceled)}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the job's result as one JSON object on stdout")
	cmd.Flags().IntVar(&attempts, "attempts", 1, "attempts before the job fails; a retry resumes from the parts already uploaded (without --source)")
	cmd.Flags().DurationVar(&retryDelay, "retry-delay", 15*time.Minute, "pause between attempts (without --source)")
	cmd.Flags().StringVar(&source, "source", "", "sync a failover pair: auto (what the failover state says), primary or backup")
	cmd.Flags().BoolVar(&checkHealth, "check-health", true, "with --source auto: run the health checks first and feed them to the failover state")
	return cmd
}

func writeJSON(v any) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
