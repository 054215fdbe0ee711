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
			limitCDCMemory()
			p, err := g.project()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := state.Open(ctx, p.Settings.StateDB)
			if err != nil {
				return err
			}
			defer st.Close()
			unlock, lost, err := cdc.Hold(ctx, st, p.Settings.StateDB, args[0])
			if err != nil {
				return &exitError{code: exitBusy, err: err}
			}
			defer unlock()
			ctx, cancel := stopWhenLost(ctx, lost)
			defer cancel()
			o, err := cdc.Open(ctx, p, args[0], st, g.log)
			if err != nil {
				return cdcExit(err)
			}
			defer o.Close()
			stop := logCDCProgress(ctx, g.log, o.Stats, time.Minute)
			defer stop()
			err = cdc.Run(ctx, o.Config)
			if c := context.Cause(ctx); err == nil && c != nil && !errors.Is(c, context.Canceled) {
				return &exitError{code: exitBusy, err: c} // the lock was lost: stopped so another reader may run
			}
			return cdcExit(err)
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

// stopWhenLost is ctx, also ended when the reader's lock is lost: another
// process may then take the connection, and two readers must never run.
func stopWhenLost(ctx context.Context, lost <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-lost:
			cancel(errors.New("the cdc reader's lock in the state store was lost"))
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}
