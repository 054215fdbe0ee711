// Package preflight is `acode check`: before any sync, it connects to a
// connection's source and destination, discovers its selected streams and
// compares each with its last commit (package drift, the same check a
// failover pair's sync runs). It reports; it changes nothing.
package preflight

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/acode-dev/acode/internal/cdc"
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
	// CDC is set for a source with replication_method CDC: the binlog
	// settings and privileges of the server its reader takes the binlog from.
	CDC *CDCCheck `json:"cdc,omitempty"`
}

// CDCCheck is what the check found on the server a CDC reader reads.
type CDCCheck struct {
	Server   string        `json:"server"`
	Findings []cdc.Finding `json:"findings"`
	Error    string        `json:"error,omitempty"`
}

// OK says whether a reader can run there.
func (c *CDCCheck) OK() bool {
	if c.Error != "" {
		return false
	}
	for _, f := range c.Findings {
		if !f.OK {
			return false
		}
	}
	return true
}

// OK says whether the connection can sync as it is.
func (c Connection) OK() bool {
	if !c.Source.OK || !c.Destination.OK || (c.CDC != nil && !c.CDC.OK()) {
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
	if c.Source.ReplicationMethod == config.ReplicationCDC {
		cr.CDC = checkCDC(ctx, p, c)
	}
	return cr
}

// checkCDC checks the server the connection's CDC reader would read
// (cdc.read_from), on a pool of its own.
func checkCDC(ctx context.Context, p *config.Project, c *config.Connection) *CDCCheck {
	src, _, err := cdc.ReadSource(p, c)
	if err != nil {
		return &CDCCheck{Error: err.Error()}
	}
	out := &CDCCheck{Server: src.ResourceName}
	db, err := connect.Source(ctx, src, p.Settings.Sync, 1)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer db.Close()
	if out.Findings, err = cdc.CheckServer(ctx, db, p.Settings.CDC.ServerID); err != nil {
		out.Error = err.Error()
	}
	return out
}

func checkStream(ctx context.Context, st *state.Store, store storage.Store, db *sql.DB, c *config.Connection, s config.Stream) Stream {
	sr := Stream{Name: s.Name}
	ns := c.Namespace(s)
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
