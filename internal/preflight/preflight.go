// Package preflight is `acode check`: before any sync, it connects to a
// connection's source and destination, discovers its selected streams and
// compares each with its last commit (package drift, the same check a
// failover pair's sync runs). It reports; it changes nothing.
package preflight

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/drift"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// Connection is what the check found about one connection.
type Connection struct {
	Name        string   `json:"name"`
	Source      Endpoint `json:"source"`
	Destination Endpoint `json:"destination"`
	Streams     []Stream `json:"streams"`
}

// OK says whether the connection can sync as it is.
func (c Connection) OK() bool {
	if !c.Source.OK || !c.Destination.OK {
		return false
	}
	for _, s := range c.Streams {
		if !s.OK {
			return false
		}
	}
	return true
}

// Endpoint is a source or destination: reachable or why not.
type Endpoint struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Stream is one selected stream. It is not OK when its table cannot be
// discovered or changed in a breaking way since its last commit (Drift);
// SchemaChanges lists every change, breaking or not.
type Stream struct {
	Name          string         `json:"name"`
	OK            bool           `json:"ok"`
	Columns       int            `json:"columns"`
	PrimaryKey    []string       `json:"primary_key"`
	Estimated     int64          `json:"estimated_rows"`
	Drift         string         `json:"drift,omitempty"`
	SchemaChanges []drift.Change `json:"schema_changes,omitempty"`
	Error         string         `json:"error,omitempty"`
}

// Check checks connection c of project p; st is the state store the last
// commits are read from.
func Check(ctx context.Context, p *config.Project, st *state.Store, c *config.Connection) Connection {
	cr := Connection{Name: c.ResourceName,
		Source:      Endpoint{Name: c.Source.ResourceName},
		Destination: Endpoint{Name: c.Destination.ResourceName}}
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
		cr.Streams = append(cr.Streams, checkStream(ctx, st, store, db, c, s))
	}
	return cr
}

func checkStream(ctx context.Context, st *state.Store, store storage.Store, db *sql.DB, c *config.Connection, s config.Stream) Stream {
	sr := Stream{Name: s.Name}
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
		return sr // the destination's own failure is reported
	}
	rep, err := drift.Stream(ctx, st, store, c.ResourceName, t)
	if err != nil {
		return sr // never committed, or its manifest is unreadable: nothing to compare with
	}
	sr.SchemaChanges = rep.Changes
	if len(rep.Breaking()) > 0 {
		sr.OK, sr.Drift = false, (&drift.Error{Connection: c.ResourceName, Report: rep}).Error()
	}
	return sr
}
