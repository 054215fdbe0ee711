package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/archive"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
)

func newArchiveCmd(g *globals) *cobra.Command {
	var (
		month, year, connection, prefix string
		list, asJSON                    bool
	)
	cmd := &cobra.Command{
		Use:   "archive [--month YYYY-MM] | --list",
		Short: "Copy each stream's last committed snapshot of a month to acode_historical/monthly_snapshots/, verified; list the archives",
		Long: "For each stream of each connection (--connection, default every connection but failover backups), finds the\n" +
			"month's latest day with a committed snapshot and copies it server-side to\n" +
			"<prefix>/<connection>/<stream>/<YYYY-MM>/ in acode.yaml's archive.bucket (default: the destination's bucket or\n" +
			"directory) under archive.prefix (default acode_historical/monthly_snapshots): parts copied into a staging\n" +
			"area and their SHA-256 checked against the manifest, then published under a manifest and _SUCCESS. A month\n" +
			"already archived is left alone; a run killed half-way is finished by the next. --month defaults to last month.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			conns, err := archiveConnections(p, connection)
			if err != nil {
				return err
			}
			if list {
				return listArchives(cmd, p, conns, prefix, asJSON)
			}
			m, err := parseMonth(month, time.Now().UTC().AddDate(0, -1, 0))
			if err != nil {
				return err
			}
			run := (*archive.Archiver).Month
			if year != "" {
				if month != "" {
					return &exitError{code: exitConfig, err: errors.New("--month and --year: give one")}
				}
				if m, err = time.Parse("2006", year); err != nil {
					return &exitError{code: exitConfig, err: fmt.Errorf("--year %q: want YYYY", year)}
				}
				run = (*archive.Archiver).Year
			}
			var all []archive.Result
			for _, c := range conns {
				a, err := openArchiver(cmd.Context(), p, c, prefix, g.log)
				if err != nil {
					return err
				}
				res, err := run(a, cmd.Context(), m)
				all = append(all, res...)
				if err != nil {
					printArchived(cmd, all, asJSON)
					return &exitError{code: exitDestination, err: err}
				}
			}
			printArchived(cmd, all, asJSON)
			return nil
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "month to archive, YYYY-MM (default: last month, UTC)")
	cmd.Flags().StringVar(&year, "year", "", "copy each stream's latest monthly archive of this year, YYYY, to archive.yearly_prefix instead")
	cmd.Flags().StringVar(&connection, "connection", "", "only this connection")
	cmd.Flags().StringVar(&prefix, "prefix", "", "where archives go in the archive bucket or directory (default: acode.yaml's archive.prefix, "+archive.DefaultPrefix+")")
	cmd.Flags().BoolVar(&list, "list", false, "list the archives instead")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newArchiveRestoreCmd(g))
	return cmd
}

func newArchiveRestoreCmd(g *globals) *cobra.Command {
	var (
		month, stream, to, connection, prefix string
		replace, asJSON                       bool
	)
	cmd := &cobra.Command{
		Use:   "restore --month YYYY-MM --stream S --to YYYY-MM-DD",
		Short: "Copy an archived month of a stream back into a day's bronze partition, verified, through the commit protocol",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if month == "" || stream == "" || to == "" {
				return &exitError{code: exitConfig, err: errors.New("--month, --stream and --to are required")}
			}
			m, err := parseMonth(month, time.Time{})
			if err != nil {
				return err
			}
			day, err := time.Parse(time.DateOnly, to)
			if err != nil {
				return &exitError{code: exitConfig, err: fmt.Errorf("--to %q: want YYYY-MM-DD", to)}
			}
			p, err := g.project()
			if err != nil {
				return err
			}
			conns, err := archiveConnections(p, connection)
			if err != nil {
				return err
			}
			if len(conns) != 1 {
				return &exitError{code: exitConfig, err: errors.New("several connections archive: name one with --connection")}
			}
			a, err := openArchiver(cmd.Context(), p, conns[0], prefix, g.log)
			if err != nil {
				return err
			}
			r, err := a.Restore(cmd.Context(), stream, m, day, replace)
			switch {
			case errors.Is(err, archive.ErrNotArchived), errors.Is(err, archive.ErrPartitionExists):
				return &exitError{code: exitConfig, err: err}
			case err != nil:
				return &exitError{code: exitDestination, err: err}
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s of %s (job %d, %d rows, %d files) into %s\n", r.Stream, r.Month, r.JobID, r.Rows, r.Files, r.To)
			return nil
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "archived month, YYYY-MM")
	cmd.Flags().StringVar(&stream, "stream", "", "stream to restore")
	cmd.Flags().StringVar(&to, "to", "", "day whose bronze partition receives it, YYYY-MM-DD")
	cmd.Flags().StringVar(&connection, "connection", "", "connection (default: the only one that archives)")
	cmd.Flags().StringVar(&prefix, "prefix", "", "where archives are in the archive bucket or directory (default: acode.yaml's archive.prefix)")
	cmd.Flags().BoolVar(&replace, "replace", false, "replace the day's snapshot when it has one")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// archiveConnections is --connection, or every connection that is not a
// failover pair's backup (the backup's data is the backup).
func archiveConnections(p *config.Project, name string) ([]*config.Connection, error) {
	if name != "" {
		c, err := p.Connection(name)
		if err != nil {
			return nil, &exitError{code: exitConfig, err: err}
		}
		return []*config.Connection{c}, nil
	}
	pairs, err := p.FailoverPairs()
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	backups := map[string]bool{}
	for _, pr := range pairs {
		backups[pr.Backup] = true
	}
	var out []*config.Connection
	for _, n := range p.ConnectionNames() {
		if !backups[n] {
			out = append(out, p.Connections[n])
		}
	}
	return out, nil
}

func parseMonth(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return time.Date(def.Year(), def.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	}
	m, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, &exitError{code: exitConfig, err: fmt.Errorf("--month %q: want YYYY-MM", s)}
	}
	return m, nil
}

func listArchives(cmd *cobra.Command, p *config.Project, conns []*config.Connection, prefix string, asJSON bool) error {
	var all []archive.Entry
	seen := map[string]bool{}
	for _, c := range conns {
		a, err := openArchiver(cmd.Context(), p, c, prefix, nil)
		if err != nil {
			return err
		}
		st := a.ArchiveStore()
		if seen[st.Location(a.Prefix)] {
			continue // two connections archiving into one bucket: listed once
		}
		seen[st.Location(a.Prefix)] = true
		for _, pre := range []string{a.Prefix, a.YearlyPrefix} {
			es, err := archive.List(cmd.Context(), st, pre)
			if err != nil {
				return &exitError{code: exitDestination, err: err}
			}
			all = append(all, es...)
		}
	}
	if asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"archives": all})
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTION\tSTREAM\tMONTH/YEAR\tFROM DAY\tJOB\tROWS\tBYTES\tFILES\tARCHIVED AT")
	for _, e := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", e.Connection, e.Stream, e.Month, e.FromDay, e.JobID, e.Rows, e.Bytes, e.Files, e.ArchivedAt)
	}
	return tw.Flush()
}

func printArchived(cmd *cobra.Command, rs []archive.Result, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"archives": rs})
		return
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTION\tSTREAM\tMONTH\tDID\tFROM\tJOB\tROWS\tFILES")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", r.Connection, r.Stream, r.Month, r.Did, r.From, r.JobID, r.Rows, r.Files)
	}
	tw.Flush()
}

// openArchiver opens connection c's destination and, with archive.bucket,
// the archive bucket (reached like the destination). prefix, when not
// empty, replaces archive.prefix (the --prefix flag).
func openArchiver(ctx context.Context, p *config.Project, c *config.Connection, prefix string, log *slog.Logger) (*archive.Archiver, error) {
	bucket, pre, err := p.ArchiveTarget(c)
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	if prefix != "" {
		pre = strings.Trim(prefix, "/")
	}
	st, err := connect.Store(ctx, c.Destination)
	if err != nil {
		return nil, &exitError{code: exitDestination, err: err}
	}
	a := &archive.Archiver{Store: st, Conn: c, Prefix: pre, YearlyPrefix: p.Settings.Archive.YearlyPrefix, Log: log}
	if p.Settings.Archive.Bucket != "" {
		if a.Archive, err = connect.BucketStore(ctx, bucket, c.Destination); err != nil {
			return nil, &exitError{code: exitDestination, err: fmt.Errorf("archive.bucket %s: %w", bucket, err)}
		}
		if err := a.Archive.Ping(ctx); err != nil {
			return nil, &exitError{code: exitDestination, err: fmt.Errorf("%s:%d: archive.bucket: %s is not reachable with destination %s's endpoint and credentials: %w",
				config.SettingsFile, p.Settings.Archive.BucketLine, bucket, c.Destination.ResourceName, err)}
		}
	}
	return a, nil
}
