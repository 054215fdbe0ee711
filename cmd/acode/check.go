package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// checkReport is what `acode check --json` prints.
type checkReport struct {
	OK          bool         `json:"ok"`
	Warnings    []string     `json:"warnings"`
	Connections []connReport `json:"connections"`
}

type connReport struct {
	Name        string         `json:"name"`
	Source      endpointReport `json:"source"`
	Destination endpointReport `json:"destination"`
	Streams     []streamReport `json:"streams"`
}

type endpointReport struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

type streamReport struct {
	Name       string   `json:"name"`
	OK         bool     `json:"ok"`
	Columns    int      `json:"columns"`
	PrimaryKey []string `json:"primary_key"`
	Estimated  int64    `json:"estimated_rows"`
	Drift      string   `json:"drift,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func newCheckCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check [CONNECTION...]",
		Short: "Validate the configuration, connect to every source and destination, discover the streams, report schema drift",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.project()
			if err != nil {
				return err
			}
			names := args
			if len(names) == 0 {
				for n := range p.Connections {
					names = append(names, n)
				}
				sort.Strings(names)
			}
			rep := checkReport{OK: true, Warnings: p.Warnings}
			for _, n := range names {
				c, err := p.Connection(n)
				if err != nil {
					return &exitError{code: exitConfig, err: err}
				}
				cr := checkConnection(cmd.Context(), p, c)
				rep.Connections = append(rep.Connections, cr)
				rep.OK = rep.OK && cr.Source.OK && cr.Destination.OK && allStreamsOK(cr.Streams)
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
	return cmd
}

func checkConnection(ctx context.Context, p *config.Project, c *config.Connection) connReport {
	cr := connReport{Name: c.ResourceName,
		Source:      endpointReport{Name: c.Source.ResourceName},
		Destination: endpointReport{Name: c.Destination.ResourceName}}
	store, err := connect.Store(ctx, c.Destination)
	if err == nil {
		err = store.Ping(ctx)
	}
	if err != nil {
		cr.Destination.Detail = err.Error()
		store = nil
	} else {
		cr.Destination.OK = true
		cr.Destination.Detail = store.Location(c.Destination.BucketPath)
	}
	db, err := connect.Source(ctx, c.Source, p.Settings.Sync, 2)
	if err != nil {
		cr.Source.Detail = err.Error()
		return cr
	}
	defer db.Close()
	info, err := mysql.ServerInfo(ctx, db)
	if err != nil {
		cr.Source.Detail = err.Error()
		return cr
	}
	cr.Source.OK = true
	cr.Source.Detail = fmt.Sprintf("%s:%d %s", c.Source.Host, c.Source.Port, info.Version)
	for _, s := range c.SelectedStreams() {
		cr.Streams = append(cr.Streams, checkStream(ctx, db, store, c, s))
	}
	return cr
}

func checkStream(ctx context.Context, db *sql.DB, store storage.Store, c *config.Connection, s config.Stream) streamReport {
	sr := streamReport{Name: s.Name}
	ns := s.Namespace
	if ns == "" {
		ns = c.Source.Database
	}
	tables, err := mysql.Discover(ctx, db, ns, []string{s.Name})
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	t := tables[0]
	sr.OK, sr.Columns, sr.PrimaryKey, sr.Estimated = true, len(t.Columns), t.PrimaryKey, t.EstimatedRows
	if store == nil {
		return sr
	}
	if m := lastManifest(ctx, store, c, s.Name); m != nil && m.Schema.Fingerprint != t.Fingerprint() {
		sr.Drift = fmt.Sprintf("schema changed since job %d (%s -> %s)", m.JobID, m.Schema.Fingerprint, t.Fingerprint())
	}
	return sr
}

func lastManifest(ctx context.Context, store storage.Store, c *config.Connection, stream string) *snapshot.Manifest {
	prefix := layout.Join(c.Destination.BucketPath, stream) + "/"
	var newest *snapshot.Manifest
	_ = store.List(ctx, prefix, func(o storage.ObjectInfo) error {
		if path.Base(o.Key) != layout.ManifestName {
			return nil
		}
		m, err := snapshot.ReadManifest(ctx, store, o.Key)
		if err == nil && (newest == nil || m.CommittedAt.After(newest.CommittedAt)) {
			newest = m
		}
		return nil
	})
	return newest
}

func allStreamsOK(ss []streamReport) bool {
	for _, s := range ss {
		if !s.OK {
			return false
		}
	}
	return true
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
		}
	}
	if r.OK {
		fmt.Fprintln(w, "all checks passed")
	}
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}
