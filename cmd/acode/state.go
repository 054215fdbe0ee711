package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/state"
)

// newStateCmd groups the state store's maintenance: migrations ahead of a
// rollout, and moving a SQLite store to PostgreSQL.
func newStateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Maintain the state store (SQLite file or PostgreSQL): migrate, copy",
	}
	cmd.AddCommand(newStateMigrateCmd(g), newStateCopyCmd(g))
	return cmd
}

func newStateMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring state_db's schema up to this acode's version (every command does it on open; run it before a rollout)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, st, err := g.projectState(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "state store %s (%s): schema version %d\n", st.Path(), st.Engine(), v)
			return nil
		},
	}
}

func newStateCopyCmd(g *globals) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "copy --to URL",
		Short: "Copy the state store (state_db, or --from) into a new, empty store, e.g. SQLite to PostgreSQL",
		Long: `Copy every job, attempt, part, plan, cursor, committed partition, health
result, failover state and transition, alert, schedule fire time and quality
report into an empty store, keeping every id (the job ids Airflow holds stay
valid). Stop every acode process first. ${VAR} in --to is expanded from the
environment, so the password need not appear on the command line:
  acode state copy --to 'postgres://acode:${ACODE_PG_PASSWORD}@db:5432/acode'
Then point state_db at the URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if from == "" {
				p, err := g.project()
				if err != nil {
					return err
				}
				from = p.Settings.StateDB
			}
			dest, err := expandEnv(to)
			if err != nil {
				return &exitError{code: exitConfig, err: fmt.Errorf("--to: %w", err)}
			}
			if dest == "" {
				return &exitError{code: exitConfig, err: fmt.Errorf("--to is required: the store to copy into (a postgres:// URL or a SQLite path)")}
			}
			src, err := state.Open(ctx, from)
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := state.Open(ctx, dest)
			if err != nil {
				return err
			}
			defer dst.Close()
			counts, err := state.Copy(ctx, src, dst)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tROWS")
			for _, c := range counts {
				fmt.Fprintf(tw, "%s\t%d\n", c.Table, c.Rows)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "copied %s to %s; set state_db to it\n", src.Path(), dst.Path())
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the store to copy into: postgres://USER:${PASSWORD}@HOST:5432/DB (${VAR} expanded) or a SQLite path")
	cmd.Flags().StringVar(&from, "from", "", "the store to copy from (default: state_db of the project)")
	return cmd
}

// expandEnv replaces ${VAR} in s from the environment; an unset variable is
// an error naming it (never the value of any).
func expandEnv(s string) (string, error) {
	var missing string
	out := os.Expand(s, func(k string) string {
		v, ok := os.LookupEnv(k)
		if !ok && missing == "" {
			missing = k
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("environment variable %s is not set", missing)
	}
	return out, nil
}
