package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/examples"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/sandbox"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

const (
	demoConnection = "connection_mysql_local_acode"
	demoDatabase   = "acode_farmarcas"
	demoUser       = "userfarmarcasac02"
)

func newDemoCmd(g *globals) *cobra.Command {
	var (
		rows    int
		dir     string
		noDrill bool
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
			return runDemo(cmd.Context(), cmd.OutOrStdout(), g, rows, dir, !noDrill)
		},
	}
	cmd.Flags().IntVar(&rows, "rows", 200000, "rows of farmarcas_si_analitico_diario (produtos and complemento scale with it)")
	cmd.Flags().StringVar(&dir, "dir", "demo-data", "where the bronze files and the demo's project go")
	cmd.Flags().BoolVar(&noDrill, "no-drill", false, "skip the failure drill (kill the primary, failover, promotion, failback)")
	return cmd
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
	if err := writeDemoProject(project, out, primary.Port, replica.Port); err != nil {
		return err
	}
	os.Setenv("ACODE_PASS", password)
	os.Setenv("ACODE_BACKUP_HOST", "127.0.0.1")
	os.Setenv("ACODE_BACKUP_USER", demoUser)
	os.Setenv("ACODE_BACKUP_PASS", password)
	for _, k := range []string{"FARMARCAS_AWS_ACCESS_KEY_ID", "FARMARCAS_AWS_SECRET_ACCESS_KEY"} {
		if _, ok := os.LookupEnv(k); !ok {
			os.Setenv(k, "not-used-by-the-demo")
		}
	}
	p, err := config.Load(project, os.LookupEnv)
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
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + demoDatabase,
		"CREATE USER IF NOT EXISTS '" + demoUser + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT SELECT, SHOW VIEW, REPLICATION CLIENT ON *.* TO '" + demoUser + "'@'%'",
		// replication_lag reads the replica's status: the failure drill needs it.
		"GRANT SLAVE MONITOR ON *.* TO '" + demoUser + "'@'%'",
	} {
		if _, err := root.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("prepare demo database: %w", err)
		}
	}
	if err := demo.CreateSchema(ctx, root, demoDatabase); err != nil {
		return err
	}
	fmt.Fprintf(w, "== generating %d fiscal rows (valid CNPJ and EAN-13 check digits, real CFOP/NCM/CST shapes)\n", rows)
	start := time.Now()
	counts, err := demo.Fill(ctx, root, demoDatabase, demo.Options{Rows: rows, Days: 7, Now: time.Now(), Seed: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   %+v in %s\n", counts, time.Since(start).Round(time.Millisecond))
	return nil
}

// writeDemoProject writes the embedded example project with its sources
// pointed at the sandbox and the local destination at out.
func writeDemoProject(project, out string, primaryPort, replicaPort int) error {
	err := fs.WalkDir(examples.Project, "acode-project", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(project, strings.TrimPrefix(path, "acode-project"))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := examples.Project.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		switch {
		case strings.HasSuffix(path, "sources/source_mysql_acode/configuration.yaml"):
			text = strings.Replace(text, "host: db-hsp-farmarcas.acode.com.br", "host: 127.0.0.1", 1)
			text = strings.Replace(text, "port: 3306", "port: "+strconv.Itoa(primaryPort), 1)
		case strings.HasSuffix(path, "sources/source_mysql_acode_backup/configuration.yaml"):
			text = strings.Replace(text, "port: 3306", "port: "+strconv.Itoa(replicaPort), 1)
		case strings.HasSuffix(path, "destinations/destination_local_acode/configuration.yaml"):
			text = strings.Replace(text, "destination_path: ./demo-data", "destination_path: "+out, 1)
		case strings.Contains(path, "destinations/destination_s3_acode"):
			// The failure drill's pair writes beside the local connection.
			text = strings.Replace(text, "s3_bucket_name: farmarcas-production-bronze", "destination_path: "+out, 1)
		}
		return os.WriteFile(target, []byte(text), 0o644)
	})
	if err != nil {
		return fmt.Errorf("write demo project: %w", err)
	}
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
