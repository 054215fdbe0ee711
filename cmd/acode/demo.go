package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/hadrill"
	"github.com/acode-dev/acode/internal/sandbox"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

const demoConnection = demo.Connection

func newDemoCmd(g *globals) *cobra.Command {
	var (
		rows    int
		dir     string
		noDrill bool
		ha      bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a throwaway MariaDB primary and replica, fill the ACODE tables, and sync them to ./demo-data",
		Long: `A self-contained sandbox: starts a MariaDB primary and a binlog replica from
the installed mariadbd, fills the three ACODE tables with realistic synthetic
data, writes the example project (the seed's files) pointed at them, runs the
sync into a local directory laid out like the S3 bucket, prints where the files
are and a query that reads them, then runs the failure drill: kills the
primary, shows the health checks turning critical and the failover, syncs
from the replica and promotes its partitions, restarts the primary, fails
back after the hysteresis and reconciles. Then it stops the servers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ha {
				return runHADemo(cmd.Context(), cmd.OutOrStdout(), rows)
			}
			return runDemo(cmd.Context(), cmd.OutOrStdout(), g, rows, dir, !noDrill)
		},
	}
	cmd.Flags().IntVar(&rows, "rows", 200000, "rows of farmarcas_si_analitico_diario (produtos and complemento scale with it)")
	cmd.Flags().StringVar(&dir, "dir", "demo-data", "where the bronze files and the demo's project go")
	cmd.Flags().BoolVar(&noDrill, "no-drill", false, "skip the failure drill (kill the primary, failover, promotion, failback)")
	cmd.Flags().BoolVar(&ha, "ha", false, "instead: three acode serve on a throwaway PostgreSQL state; kill the leader, then the replica running a sync, and print the takeover times")
	return cmd
}

// runHADemo is `acode demo --ha`: the drill runs this binary as its replicas.
func runHADemo(ctx context.Context, w io.Writer, rows int) error {
	if err := sandbox.Available(); err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := hadrill.Run(ctx, hadrill.Options{Exe: exe, Rows: rows, Out: w}); err != nil {
		return fmt.Errorf("ha drill: %w", err)
	}
	return nil
}

func runDemo(ctx context.Context, w io.Writer, g *globals, rows int, dir string, drill bool) error {
	if err := sandbox.Available(); err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	out, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "acode-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintln(w, "== starting a MariaDB primary and a binlog replica")
	primary, err := sandbox.Start(filepath.Join(tmp, "primary"), sandbox.Options{})
	if err != nil {
		return err
	}
	defer primary.Close()
	replica, err := sandbox.StartReplica(filepath.Join(tmp, "replica"), primary)
	if err != nil {
		return err
	}
	defer replica.Close()
	fmt.Fprintf(w, "   primary 127.0.0.1:%d, replica 127.0.0.1:%d\n", primary.Port, replica.Port)

	password := "demo-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := fillDemo(ctx, w, primary, rows, password); err != nil {
		return err
	}
	if err := replica.WaitCaughtUp(ctx, primary); err != nil {
		return err
	}

	project := filepath.Join(out, "project")
	_ = os.RemoveAll(filepath.Join(project, ".acode")) // a throwaway sandbox: no state of an earlier demo
	if err := demo.WriteProject(project, out, primary.Port, replica.Port); err != nil {
		return err
	}
	p, err := config.Load(project, demo.Env(password, os.LookupEnv))
	if err != nil {
		return err
	}
	if err := syncDemo(ctx, w, g, p, out); err != nil {
		return err
	}
	if drill {
		if err := failureDrill(ctx, w, g, p, primary, replica); err != nil {
			return fmt.Errorf("failure drill: %w", err)
		}
	}
	fmt.Fprintf(w, `== the demo's servers are stopped; its project (the seed's files pointed at them) is in
   %s
`, p.Dir)
	return nil
}

func fillDemo(ctx context.Context, w io.Writer, primary *sandbox.Server, rows int, password string) error {
	root, err := primary.Root() // owned by the server: closed by its Close
	if err != nil {
		return err
	}
	if err := demo.Prepare(ctx, root, password); err != nil {
		return err
	}
	fmt.Fprintf(w, "== generating %d fiscal rows (valid CNPJ and EAN-13 check digits, real CFOP/NCM/CST shapes)\n", rows)
	start := time.Now()
	counts, err := demo.Fill(ctx, root, demo.Database, demo.Options{Rows: rows, Days: 7, Now: time.Now(), Seed: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   %+v in %s\n", counts, time.Since(start).Round(time.Millisecond))
	return nil
}

func syncDemo(ctx context.Context, w io.Writer, g *globals, p *config.Project, out string) error {
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(w, "== acode sync %s (the seed's three streams, project in %s)\n", demoConnection, p.Dir)
	progress := syncer.NewProgress()
	stop := showProgress(ctx, g.stderr, progress, g.log)
	s := &syncer.Syncer{Project: p, State: st, Log: g.log}
	res, err := s.Run(ctx, demoConnection, syncer.Options{Progress: progress})
	stop()
	if res != nil {
		printResult(w, res)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "== files")
	for _, s := range res.Streams {
		for _, f := range s.Files {
			fmt.Fprintln(w, "  ", filepath.Join(out, f))
		}
	}
	fmt.Fprintf(w, `== read them with DuckDB (types are exact: DECIMAL, DATE, TIMESTAMP):
   duckdb -c "SELECT cog_dt_ingestion, count(*) AS rows, sum(ACODE_Val_Total) AS total
              FROM read_parquet('%s/origin=airbyte/database=bronze_acode/farmarcas_si_analitico_diario/*/*.parquet', hive_partitioning=true)
              GROUP BY 1"
`, out)
	return nil
}
