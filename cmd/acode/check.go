package main

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/preflight"
	"github.com/acode-dev/acode/internal/state"
)

// checkReport is what `acode check --json` prints.
type checkReport struct {
	OK          bool                   `json:"ok"`
	Warnings    []string               `json:"warnings"`
	Connections []preflight.Connection `json:"connections"`
}

func newCheckCmd(g *globals) *cobra.Command {
	var asJSON, credentials bool
	cmd := &cobra.Command{
		Use:   "check [CONNECTION...]",
		Short: "Validate the configuration, connect to every source and destination, discover the streams, report schema drift",
		Long: "Validates the configuration, connects to every source and destination and discovers the selected streams.\n" +
			"Each stream's table is compared with the schema of the connection's last commit of it: a dropped column or\n" +
			"a changed column type is drift (the stream fails the check, and a failover pair's sync halts on it as\n" +
			"schema_change); an added column is reported and syncs on (older partitions read it as NULL).",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			if credentials {
				return runCheckCredentials(cmd, p, asJSON)
			}
			names := args
			if len(names) == 0 {
				for n := range p.Connections {
					names = append(names, n)
				}
				sort.Strings(names)
			}
			conns := make([]*config.Connection, len(names))
			for i, n := range names {
				if conns[i], err = p.Connection(n); err != nil {
					return &exitError{code: exitConfig, err: err}
				}
			}
			st, err := state.Open(cmd.Context(), p.Settings.StateDB)
			if err != nil {
				return err
			}
			defer st.Close()
			rep := checkReport{OK: true, Warnings: p.Warnings}
			for _, c := range conns {
				cr := preflight.Check(cmd.Context(), p, st, c)
				rep.Connections = append(rep.Connections, cr)
				rep.OK = rep.OK && cr.OK()
			}
			if asJSON {
				writeJSON(rep)
			} else {
				printCheck(cmd.OutOrStdout(), rep)
			}
			if !rep.OK {
				return &exitError{code: exitFailed, err: errors.New("check found problems"), printed: true}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&credentials, "credentials", false, "report each source account's password age and lifetime (MariaDB mysql.global_priv, MySQL mysql.user); exit 1 when one is refused or expired")
	return cmd
}

func printCheck(w io.Writer, r checkReport) {
	for _, wn := range r.Warnings {
		fmt.Fprintln(w, "warning:", wn)
	}
	for _, c := range r.Connections {
		fmt.Fprintf(w, "%s\n  source %s: %s %s\n  destination %s: %s %s\n", c.Name,
			c.Source.Name, okWord(c.Source.OK), c.Source.Detail, c.Destination.Name, okWord(c.Destination.OK), c.Destination.Detail)
		for _, s := range c.Streams {
			line := fmt.Sprintf("    stream %s: %s", s.Name, okWord(s.OK))
			if s.OK {
				line += fmt.Sprintf(" (%d columns, key %v, ~%d rows)", s.Columns, s.PrimaryKey, s.Estimated)
			} else {
				line += " " + s.Error
			}
			if s.Drift != "" {
				line += " DRIFT: " + s.Drift
			}
			fmt.Fprintln(w, line)
			for _, ch := range s.SchemaChanges {
				if !ch.Breaking() {
					fmt.Fprintf(w, "      schema: %s since the last commit (not breaking: syncs on)\n", ch)
				}
			}
		}
		if c.CDC != nil {
			printCDCCheck(w, c.CDC)
		}
	}
	if r.OK {
		fmt.Fprintln(w, "all checks passed")
	}
}

func printCDCCheck(w io.Writer, c *preflight.CDCCheck) {
	fmt.Fprintf(w, "  cdc binlog of %s: %s %s\n", c.Server, okWord(c.OK()), c.Error)
	for _, f := range c.Findings {
		if !f.OK {
			fmt.Fprintf(w, "    %s: %s, needs %s: %s\n", f.Check, f.Have, f.Want, f.Fix)
		}
	}
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}
