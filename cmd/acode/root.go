package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/mysqldriver"
	"github.com/acode-dev/acode/internal/state"
)

// globals are the flags every subcommand shares.
type globals struct {
	configDir string
	logFormat string
	logLevel  string
	log       *slog.Logger
	// stderr is where logs and live progress go (a liveTerm on a terminal).
	stderr io.Writer
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "acode",
		Short:         "MySQL to Parquet on S3, with redundancy: a drop-in for an Airbyte connection and its DAGs",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.stderr = stderrFor(cmd.ErrOrStderr())
			log, err := newLogger(g.stderr, g.logFormat, g.logLevel)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			g.log = log
			// The driver's own messages (bad idle connections and the like)
			// go to the same log, at debug: errors reach us as values.
			_ = mysqldriver.SetLogger(driverLog{log})
			return nil
		},
	}
	root.PersistentFlags().StringVar(&g.configDir, "config", ".", "Octavia project directory (sources/, destinations/, connections/, acode.yaml)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.AddCommand(newSyncCmd(g), newCheckCmd(g), newJobsCmd(g), newDemoCmd(g), newServeCmd(g),
		newHealthCmd(g), newStatusCmd(g), newFailoverCmd(g), newFailbackCmd(g), newBenchCmd(g),
		newValidateCmd(g), newReconcileCmd(g), newConfigCmd(g), newStateCmd(g), newCDCCmd(g),
		newLifecycleCmd(g), newArchiveCmd(g), newReportCmd(g), newAlertsCmd(g))
	return root
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// project loads the configuration, logging its warnings.
func (g *globals) project() (*config.Project, error) {
	p, err := config.Load(g.configDir, os.LookupEnv)
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	for _, w := range p.Warnings {
		g.log.Warn("config", "warning", w)
	}
	return p, nil
}

// driverLog routes the MySQL driver's logger (internal/mysqldriver) into slog.
type driverLog struct{ log *slog.Logger }

func (d driverLog) Print(v ...any) { d.log.Debug("mysql driver", "msg", fmt.Sprint(v...)) }

// projectState loads the project and opens its state store, the start of
// most subcommands; the caller closes the store.
func (g *globals) projectState(ctx context.Context) (*config.Project, *state.Store, error) {
	p, err := g.project()
	if err != nil {
		return nil, nil, err
	}
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		return nil, nil, err
	}
	return p, st, nil
}
