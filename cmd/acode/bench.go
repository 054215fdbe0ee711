package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/bench"
)

func newBenchCmd(_ *globals) *cobra.Command {
	var (
		cfg     bench.Config
		rows    []string
		profile string
		wan     string
		stateDB string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time acode sync beside mysqldump on the same generated table, in the same run",
		Long: `Starts a MariaDB sandbox with a buffer pool that holds the table (or uses
--dsn), fills farmarcas_si_analitico_diario with N demo rows for each --rows
size, then times mysqldump --single-transaction --quick of it to /dev/null
and acode sync of it (this binary, as a child process) to a local directory,
and with --s3 to a versitygw server it starts. Prints wall seconds, rows/s,
MB/s of Parquet, the child's peak RSS and CPU, the ratio to mysqldump and the
load average per run, then the whole report as one JSON line.

--wan LATENCY,BANDWIDTH (e.g. 10ms,200mbit, root only) puts every tool
behind one shaped link: a network namespace and veth pair with tbf for the
bandwidth all connections share, toxiproxy for the latency; it also times
mysqldump --compress and acode with the protocol's compression.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Rows, err = parseCounts(rows); err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			switch stateDB {
			case "sqlite":
			case "postgres":
				cfg.StatePostgres = true
			default:
				return &exitError{code: exitConfig, err: fmt.Errorf("--state %q: want sqlite or postgres", stateDB)}
			}
			if wan != "" {
				if cfg.WAN, err = bench.ParseWAN(wan); err != nil {
					return &exitError{code: exitConfig, err: err}
				}
			}
			if cfg.Binary, err = os.Executable(); err != nil {
				return err
			}
			if profile != "" {
				if err := os.MkdirAll(profile, 0o755); err != nil {
					return err
				}
				if cfg.ProfileDir, err = filepath.Abs(profile); err != nil {
					return err
				}
			}
			_, err = bench.Run(cmd.Context(), cfg, cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&rows, "rows", []string{"1M"}, "table sizes to measure, e.g. 1M,5M,20M (k and M suffixes)")
	f.BoolVar(&cfg.S3, "s3", false, "also sync to a versitygw S3 server started by the benchmark")
	f.StringVar(&cfg.DSN, "dsn", "", "use this MySQL server (user:pass@tcp(host:port)/) instead of a sandbox")
	f.StringVar(&cfg.Database, "database", "acode_bench", "database of the benchmark table (refilled only when its row count differs)")
	f.StringVar(&cfg.BufferPool, "buffer-pool", "", "sandbox --innodb-buffer-pool-size (default: holds the largest table, at least 2048M)")
	f.IntVar(&cfg.Repeat, "repeat", 1, "runs of each tool per size; the fastest is kept")
	f.BoolVar(&cfg.KeepOutput, "keep-output", false, "keep each sync's Parquet output (by default removed once that variant is measured: about 5 GB a variant at 50M rows)")
	f.BoolVar(&cfg.MeasureQuality, "quality-overhead", false, "also run the local sync without the source counts and with quality checks off, alternating, and print what they add")
	f.StringVar(&cfg.Dir, "dir", "", "working directory, kept after the run (default: a temp dir, removed)")
	f.StringArrayVar(&cfg.Settings, "set", nil, `extra sync setting for the bench project's acode.yaml, e.g. --set "max_parallel_reads: 2"`)
	f.StringArrayVar(&cfg.ChildEnv, "env", nil, `extra environment for every acode sync, e.g. --env GOGC=200 or --env GODEBUG=gctrace=1 (its stderr is not shown)`)
	f.IntSliceVar(&cfg.Workers, "workers", nil, "also sync with each count of acode serve replicas on a throwaway PostgreSQL state, e.g. 1,2,3: their range workers share the table's ranges within a source budget of that count (acode_local_serve_x2, or acode_s3_... with --s3)")
	f.StringVar(&stateDB, "state", "sqlite", "postgres: also sync with state_db on a throwaway PostgreSQL the benchmark starts (acode_local_pgstate) and print its difference to the SQLite state")
	f.StringVar(&wan, "wan", "", "put the tools behind one link of LATENCY,BANDWIDTH (round trip, shared by all connections), e.g. 10ms,200mbit; needs root")
	f.StringVar(&profile, "profile", "", "write each sync's CPU and heap profiles and debug log (cpu-TOOL.pprof, mem-TOOL.pprof, log-TOOL.txt, e.g. cpu-acode_local.pprof) into this directory")
	return cmd
}

// parseCounts reads row counts like 20000, 1M or 500k.
func parseCounts(in []string) ([]int, error) {
	var out []int
	for _, s := range in {
		s = strings.TrimSpace(s)
		mult := 1
		switch {
		case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
			mult, s = 1_000_000, s[:len(s)-1]
		case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
			mult, s = 1_000, s[:len(s)-1]
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--rows %q: want a positive count such as 20000, 500k or 5M", s)
		}
		out = append(out, n*mult)
	}
	return out, nil
}
