package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/state"
)

func newCDCCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cdc CONNECTION",
		Short: "Read the source's binlog by GTID and land whole transactions as change-log Parquet, in the foreground until stopped",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			unlock, err := cdc.Lock(p.Settings.StateDB, args[0])
			if err != nil {
				return &exitError{code: exitBusy, err: err}
			}
			defer unlock()
			ctx := cmd.Context()
			st, err := state.Open(ctx, p.Settings.StateDB)
			if err != nil {
				return err
			}
			defer st.Close()
			o, err := cdc.Open(ctx, p, args[0], st, g.log)
			if err != nil {
				return cdcExit(err)
			}
			defer o.Close()
			stop := logCDCProgress(ctx, g.log, o.Stats, time.Minute)
			defer stop()
			return cdcExit(cdc.Run(ctx, o.Config))
		},
	}
	cmd.AddCommand(newCDCCompactCmd(g))
	return cmd
}

// cdcExit gives the reader's failures the sync's exit codes.
func cdcExit(err error) error {
	var pos *cdc.PositionError
	var conn *cdc.ConnectionError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cdc.ErrNotCDC), errors.Is(err, cdc.ErrTwoReaders):
		return &exitError{code: exitConfig, err: err}
	case errors.As(err, &pos), errors.As(err, &conn), errors.Is(err, cdc.ErrServerSettings):
		return &exitError{code: exitSource, err: err}
	}
	return err
}

// logCDCProgress logs the reader's totals and rate every period.
func logCDCProgress(ctx context.Context, log *slog.Logger, s *cdc.Stats, period time.Duration) func() {
	return s.Watch(ctx, period, func(_ context.Context, last, now cdc.Totals) {
		log.Info("cdc progress", "transactions", now.Transactions, "changes", now.Changes,
			"changes_per_second", float64(now.Changes-last.Changes)/period.Seconds(),
			"committed", now.Committed, "last_commit_on_source", now.LastCommit,
			"lag_p50_seconds", now.LagP50.Seconds(), "lag_p95_seconds", now.LagP95.Seconds(), "lag_max_seconds", now.LagMax.Seconds())
	})
}
