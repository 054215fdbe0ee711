// Package snapshot holds the commit protocol of a stream's partition: the
// manifest that says which files are its content, the order in which parts,
// manifest and _SUCCESS marker are published, and the cleanup that removes
// what no manifest references. Everything that reads the bronze layer through
// acode (validate, reconcile, status) trusts the manifest, never a listing.
package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/stats"
	"github.com/acode-dev/acode/internal/storage"
)

// ManifestVersion is bumped when the manifest's shape changes incompatibly.
const ManifestVersion = 1

// Manifest is the commit record of one partition of one stream. It is
// written after every part it lists is in place and before the _SUCCESS
// marker; a partition without one was never committed by acode.
type Manifest struct {
	Version     int       `json:"version"`
	Connection  string    `json:"connection"`
	Stream      string    `json:"stream"`
	Namespace   string    `json:"namespace"`
	Partition   string    `json:"partition"`
	JobID       int64     `json:"job_id"`
	Attempt     int       `json:"attempt"`
	SyncMode    string    `json:"sync_mode"`
	Status      string    `json:"status"` // committed | promoted (also a reconcile merge: see Merge) | quarantined
	Source      Source    `json:"source"`
	StartedAt   time.Time `json:"started_at"`
	CommittedAt time.Time `json:"committed_at"`
	EmittedAt   time.Time `json:"emitted_at"`
	Schema      Schema    `json:"schema"`
	Files       []File    `json:"files"`
	Rows        int64     `json:"rows"`
	Bytes       int64     `json:"bytes"`
	// Cursor is the incremental cursor value this commit covers up to.
	Cursor string `json:"cursor,omitempty"`
	// Stats are the data-quality statistics gathered while the files were
	// written (this job's rows); `acode validate` re-runs the rules on them.
	Stats *stats.Stream `json:"stats,omitempty"`
	// Quality is the outcome of the rules when the files were written.
	Quality *Quality `json:"quality,omitempty"`
	// NulledValues counts, per column, the values written as NULL because
	// the column's Parquet type cannot hold them (zero and partial zero
	// dates), so that no value changes silently.
	NulledValues map[string]int64 `json:"nulled_values,omitempty"`
	// Merge is set on a snapshot `acode reconcile` built by merging the
	// primary's and the backup's partitions of an incremental stream.
	Merge *Merge `json:"merge,omitempty"`
	// Compaction is set on a snapshot `acode cdc compact` built from a
	// stream's change log: what it was built from, so a run with the same
	// inputs leaves it alone.
	Compaction *Compaction `json:"compaction,omitempty"`
	// NotKept lists, on a quarantined job's manifest, the parts whose bytes
	// could not be kept: uploads of an earlier attempt's process, straight
	// to the partition, that had to be aborted and whose local copy was
	// gone. Their statistics are in Stats all the same.
	NotKept []File `json:"not_kept,omitempty"`
}

// Merge records how a merged snapshot was built: which two snapshots, by
// which key and cursor, and what the backup contributed.
type Merge struct {
	PrimaryManifest string   `json:"primary_manifest"`
	PrimaryJobID    int64    `json:"primary_job_id"`
	BackupManifest  string   `json:"backup_manifest"`
	BackupJobID     int64    `json:"backup_job_id"`
	Key             []string `json:"key"`
	CursorField     string   `json:"cursor_field"`
	// Added counts keys only the backup held; Replaced keys whose newest
	// version came from the backup; Dropped older versions left out.
	Added    int64 `json:"added"`
	Replaced int64 `json:"replaced"`
	Dropped  int64 `json:"dropped"`
	// Passes is the number of key-hash buckets the merge ran in: each pass
	// holds one bucket's keys in memory.
	Passes int `json:"passes"`
}

// Compaction records the inputs of a snapshot compacted from a change log:
// the day's change-log partition as it was read and the base snapshot (the
// previous day's), none when the day's change log holds a backfill.
type Compaction struct {
	BaseManifest    string         `json:"base_partition,omitempty"`
	BaseCommittedAt time.Time      `json:"base_committed_at,omitzero"`
	ChangeLog       ChangeLogState `json:"change_log"`
	Key             []string       `json:"key"`
	// Changes counts the change-log rows read; Deleted the keys whose
	// newest change was a delete; Passes the key-hash buckets (each pass
	// holds one bucket's keys in memory).
	Changes int64 `json:"changes"`
	Deleted int64 `json:"deleted"`
	Passes  int   `json:"passes"`
}

// ChangeLogState is a change-log partition as a compaction read it.
type ChangeLogState struct {
	CommittedAt time.Time `json:"committed_at,omitzero"`
	Files       int       `json:"files"`
	Position    string    `json:"position,omitempty"`
}

// Quality summarises the data-quality rules a commit was checked with.
type Quality struct {
	Score    float64  `json:"score"`
	Passed   bool     `json:"passed"`
	Errors   []string `json:"errors,omitempty"`   // failing error-severity rules
	Warnings []string `json:"warnings,omitempty"` // failing warnings
}

// Source says where the rows came from: the endpoint (never its
// credentials) and the binlog position at the start of the read, so a
// reader can tell which snapshot of the database the files hold.
type Source struct {
	Role          string `json:"role"` // primary | backup
	Name          string `json:"name"` // the source's resource_name
	Host          string `json:"host"`
	Port          int    `json:"port"`
	Database      string `json:"database"`
	ServerVersion string `json:"server_version,omitempty"`
	GTIDPosition  string `json:"gtid_position,omitempty"`
	BinlogFile    string `json:"binlog_file,omitempty"`
	BinlogPos     int64  `json:"binlog_pos,omitempty"`
}

// Schema records the table and file schema the parts were written with.
type Schema struct {
	Fingerprint string   `json:"fingerprint"`
	TypeMode    string   `json:"type_mode"`
	Columns     []Column `json:"columns"`
}

// Column pairs a source column with the Parquet type it was written as.
type Column struct {
	Name      string `json:"name"`
	MySQLType string `json:"mysql_type,omitempty"`
	Parquet   string `json:"parquet"`
	Nullable  bool   `json:"nullable"`
}

// File is one part of the partition.
type File struct {
	Key    string `json:"key"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	JobID  int64  `json:"job_id"`
}

// Keys lists the keys of the manifest's files.
func (m *Manifest) Keys() []string {
	keys := make([]string, len(m.Files))
	for i, f := range m.Files {
		keys[i] = f.Key
	}
	return keys
}

// ReadManifest loads the manifest at key. It returns storage.ErrNotExist
// (wrapped) when the partition has none.
func ReadManifest(ctx context.Context, store storage.Store, key string) (*Manifest, error) {
	rc, err := store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open manifest %s: %w", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", key, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode manifest %s: %w", key, err)
	}
	if m.Version > ManifestVersion {
		return nil, fmt.Errorf("manifest %s has version %d; this acode reads up to %d", key, m.Version, ManifestVersion)
	}
	return &m, nil
}

// readManifestIfAny is ReadManifest with a missing manifest returned as nil.
func readManifestIfAny(ctx context.Context, store storage.Store, key string) (*Manifest, error) {
	m, err := ReadManifest(ctx, store, key)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, nil
	}
	return m, err
}

func writeJSON(ctx context.Context, store storage.Store, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	data = append(data, '\n')
	if err := store.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// Table rebuilds the table the snapshot was written from, out of the
// columns the manifest records with their MySQL type. The primary key is
// not recorded, so PrimaryKey is empty.
func (m *Manifest) Table() schema.Table {
	t := schema.Table{Namespace: m.Namespace, Name: m.Stream}
	for _, c := range m.Schema.Columns {
		if c.MySQLType == "" {
			continue // Airbyte's metadata columns
		}
		t.Columns = append(t.Columns, schema.ColumnOf(c.Name, c.MySQLType, c.Nullable))
	}
	return t
}
