package pairsync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// DriftError says a source table lost a column, or a column changed its
// type, since the connection's last commit of the stream: files written
// now would not be the table readers know. It classifies as
// schema_change: a person decides, nothing is synced from either side.
type DriftError struct {
	Connection, Stream string
	JobID              int64    // the job of the last commit compared with
	Changes            []string // e.g. "column ACODE_Val_Total dropped"
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("schema of %s changed since job %d of %s: %s", e.Stream, e.JobID, e.Connection, strings.Join(e.Changes, "; "))
}

// Unwrap makes errors.Is(err, failover.ErrSchemaChange) true.
func (e *DriftError) Unwrap() error { return failover.ErrSchemaChange }

// driftCheck compares each stream's table, as the source has it now, with
// the schema its connection's last commit recorded. It returns a
// *syncer.SourceError wrapping a *DriftError on a breaking change, and nil
// when nothing breaks or the check cannot run (a source that does not
// answer fails the sync itself, which classifies that failure).
func (r *run) driftCheck(ctx context.Context, connName string) error {
	conn := r.o.Project.Connections[connName]
	hs := r.o.Project.Settings.Health
	sync := r.o.Project.Settings.Sync
	sync.ConnectTimeout, sync.ReadTimeout = hs.ConnectTimeout, hs.QueryTimeout
	db, err := connect.Source(ctx, conn.Source, sync, 1)
	if err != nil {
		return nil
	}
	defer db.Close()
	store, err := connect.Store(ctx, conn.Destination)
	if err != nil {
		return nil
	}
	for _, s := range conn.SelectedStreams() {
		ns := s.Namespace
		if ns == "" {
			ns = conn.Source.Database
		}
		last, ok := r.lastCommit(ctx, connName, s.Name)
		if !ok {
			continue
		}
		m, err := snapshot.ReadManifest(ctx, store, last.ManifestKey)
		if err != nil {
			r.o.log().Warn("drift check: read the last manifest", "stream", s.Name, "err", err)
			continue
		}
		tables, err := mysql.Discover(ctx, db, ns, []string{s.Name})
		if err != nil || len(tables) != 1 {
			continue // a missing table fails the sync as schema_change by itself
		}
		if changes := breakingChanges(m.Schema, tables[0]); len(changes) > 0 {
			return &syncer.SourceError{Stream: s.Name, Err: &DriftError{Connection: connName, Stream: s.Name, JobID: m.JobID, Changes: changes}}
		}
	}
	return nil
}

// lastCommit is the newest live commit of the connection's stream.
func (r *run) lastCommit(ctx context.Context, conn, stream string) (state.Commit, bool) {
	commits, err := r.o.State.Commits(ctx, conn, stream, time.Time{})
	if err != nil || len(commits) == 0 {
		return state.Commit{}, false
	}
	last := commits[0]
	for _, c := range commits[1:] {
		if c.CommittedAt.After(last.CommittedAt) {
			last = c
		}
	}
	return last, true
}

// breakingChanges lists the source columns of the committed schema that
// the table no longer has, or has with another declared type. Added
// columns do not break readers (they read as NULL in older partitions).
func breakingChanges(committed snapshot.Schema, now schema.Table) []string {
	var out []string
	for _, c := range committed.Columns {
		if c.MySQLType == "" {
			continue // a column acode adds (_airbyte_*), not a source column
		}
		col, ok := now.Column(c.Name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("column %s dropped", c.Name))
		case col.ColumnType != c.MySQLType:
			out = append(out, fmt.Sprintf("column %s changed type %s -> %s", c.Name, c.MySQLType, col.ColumnType))
		}
	}
	return out
}
