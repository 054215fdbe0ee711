// Package drift compares a stream's source table, as the source has it
// now, with the schema the connection's last commit of the stream
// recorded. It is the one drift check: `acode check` reports what it
// finds, and a failover pair's sync (package pairsync) refuses to run on a
// breaking change.
//
// A column that is gone or has another declared type breaks readers: the
// files written now would not be the table they know. An added column
// does not: a reader of several partitions sees it as NULL in the older
// ones (DuckDB's union_by_name, Athena's schema evolution), so it is
// reported but syncs on.
package drift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// Kind is what happened to a column.
type Kind string

// Kinds of change.
const (
	Added       Kind = "added"        // a source column the last commit did not have
	Dropped     Kind = "dropped"      // a committed column the table no longer has
	TypeChanged Kind = "type_changed" // the same column with another declared type
	// Reshaped: the fingerprint differs with the same names and types
	// (column order or nullability); readers match columns by name.
	Reshaped Kind = "reshaped"
)

// Change is one difference between the committed schema and the table.
type Change struct {
	Kind     Kind   `json:"kind"`
	Column   string `json:"column,omitempty"`
	From, To string `json:"-"` // the declared types of a TypeChanged, the fingerprints of a Reshaped
}

// Breaking says whether files written now would break the table readers
// know.
func (c Change) Breaking() bool { return c.Kind == Dropped || c.Kind == TypeChanged }

func (c Change) String() string {
	switch c.Kind {
	case Added:
		return fmt.Sprintf("column %s added", c.Column)
	case Dropped:
		return fmt.Sprintf("column %s dropped", c.Column)
	case TypeChanged:
		return fmt.Sprintf("column %s changed type %s -> %s", c.Column, c.From, c.To)
	}
	return fmt.Sprintf("column order or nullability changed (%s -> %s)", c.From, c.To)
}

// MarshalText makes a Change read as its sentence in JSON.
func (c Change) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Compare lists how now differs from the committed schema: dropped and
// retyped columns in the committed order, then added ones in the table's.
func Compare(committed snapshot.Schema, now schema.Table) []Change {
	var out []Change
	had := map[string]bool{}
	for _, c := range committed.Columns {
		had[c.Name] = true
		if c.MySQLType == "" {
			continue // a column acode adds (_airbyte_*), not a source column
		}
		col, ok := now.Column(c.Name)
		switch {
		case !ok:
			out = append(out, Change{Kind: Dropped, Column: c.Name})
		case col.ColumnType != c.MySQLType:
			out = append(out, Change{Kind: TypeChanged, Column: c.Name, From: c.MySQLType, To: col.ColumnType})
		}
	}
	for _, col := range now.Columns {
		if !had[col.Name] {
			out = append(out, Change{Kind: Added, Column: col.Name})
		}
	}
	if len(out) == 0 && committed.Fingerprint != "" && committed.Fingerprint != now.Fingerprint() {
		out = append(out, Change{Kind: Reshaped, From: committed.Fingerprint, To: now.Fingerprint()})
	}
	return out
}

// Report is the drift of one stream since its last commit.
type Report struct {
	Stream  string   `json:"stream"`
	JobID   int64    `json:"job_id"` // the job of the commit compared with
	Changes []Change `json:"changes"`
}

// Breaking is the report's breaking changes.
func (r Report) Breaking() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Breaking() {
			out = append(out, c)
		}
	}
	return out
}

// ErrNoCommit says the connection has committed the stream never (or the
// state store lost it): there is nothing to compare with.
var ErrNoCommit = errors.New("no commit of the stream to compare with")

// Stream compares table, the stream's table as the source has it now,
// with the schema of the connection's newest live commit of the stream
// (from the state store, its manifest from store). It returns ErrNoCommit
// when there is none.
func Stream(ctx context.Context, st *state.Store, store storage.Store, connection string, table schema.Table) (Report, error) {
	last, err := lastCommit(ctx, st, connection, table.Name)
	if err != nil {
		return Report{}, err
	}
	m, err := snapshot.ReadManifest(ctx, store, last.ManifestKey)
	if err != nil {
		return Report{}, fmt.Errorf("read the last manifest of %s: %w", table.Name, err)
	}
	return Report{Stream: table.Name, JobID: m.JobID, Changes: Compare(m.Schema, table)}, nil
}

// Discover reads the stream's table from the source and compares it
// (Stream). A table the source does not have is Discover's error.
func Discover(ctx context.Context, db *sql.DB, st *state.Store, store storage.Store, connection, namespace, stream string) (Report, schema.Table, error) {
	tables, err := mysql.Discover(ctx, db, namespace, []string{stream})
	if err != nil {
		return Report{}, schema.Table{}, err
	}
	rep, err := Stream(ctx, st, store, connection, tables[0])
	return rep, tables[0], err
}

// lastCommit is the newest live commit of the connection's stream.
func lastCommit(ctx context.Context, st *state.Store, conn, stream string) (state.Commit, error) {
	commits, err := st.Commits(ctx, conn, stream, time.Time{})
	if err != nil {
		return state.Commit{}, err
	}
	if len(commits) == 0 {
		return state.Commit{}, ErrNoCommit
	}
	last := commits[0]
	for _, c := range commits[1:] {
		if c.CommittedAt.After(last.CommittedAt) {
			last = c
		}
	}
	return last, nil
}

// Error says a source table changed in a breaking way since the
// connection's last commit of the stream. It classifies as schema_change:
// a person decides, nothing is synced from either side.
type Error struct {
	Connection string
	Report
}

func (e *Error) Error() string {
	changes := make([]string, 0, len(e.Changes))
	for _, c := range e.Breaking() {
		changes = append(changes, c.String())
	}
	return fmt.Sprintf("schema of %s changed since job %d of %s: %s", e.Stream, e.JobID, e.Connection, strings.Join(changes, "; "))
}

// Unwrap makes errors.Is(err, failure.ErrSchemaChange) true.
func (e *Error) Unwrap() error { return failure.ErrSchemaChange }
