// Package promote copies committed snapshots of a backup connection into
// its primary connection's layout, so readers of the bronze prefix see the
// data the backup replica gave while the primary was down, without changing
// a query. The copy goes through the normal commit protocol
// (snapshot.Publish): parts are staged, the manifest (status "promoted",
// source role backup) is the commit, and a later sync of the primary for the
// same partition replaces the promoted snapshot by the same rules.
package promote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/google/uuid"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// Manifest status and source role of a promoted snapshot.
const (
	StatusPromoted = string(state.CommitPromoted)
	RoleBackup     = "backup"
)

// ErrChecksum means a part read from the backup does not match the SHA-256
// its manifest records: nothing was promoted.
var ErrChecksum = errors.New("promoted part differs from its manifest checksum")

// Promoter promotes backup snapshots of one project.
type Promoter struct {
	// State, when set, records each promotion as the primary partition's
	// live commit (status promoted, source backup).
	State *state.Store
	Log   *slog.Logger
	// Replace promotes over the primary's own snapshot even when it is as
	// new or newer: a restore replaces a day found corrupt.
	Replace bool
	// OpenStore reaches a destination; connect.Store when nil.
	OpenStore func(ctx context.Context, dst *config.Destination) (storage.Store, error)
	// Fence, when set, is asked after the parts are staged and before the
	// manifest publishes them: an error (a failover pair's run another
	// replica took over) leaves the primary's partition as it was. The
	// staged copies stay: their keys are the job's, which the new owner's
	// promotion writes, publishes and removes.
	Fence func(ctx context.Context) error
}

// Result is one partition's promotion.
type Result struct {
	Stream   string   `json:"stream"`
	From     string   `json:"from"` // the backup partition
	To       string   `json:"to"`   // the primary partition
	JobID    int64    `json:"job_id"`
	Rows     int64    `json:"rows"`
	Files    []string `json:"files,omitempty"`
	Copy     string   `json:"copy,omitempty"`    // server-side or streamed
	Skipped  string   `json:"skipped,omitempty"` // why nothing was copied
	Manifest string   `json:"manifest,omitempty"`
}

// Partition promotes the backup snapshot whose manifest is at manifestKey
// in backup's destination into primary's layout: the same partition a
// primary job started at the same time would have written. It copies
// nothing when the primary partition already holds this snapshot or a
// newer one of its own.
func (p *Promoter) Partition(ctx context.Context, backup, primary *config.Connection, manifestKey string) (Result, error) {
	from, to, same, err := p.stores(ctx, backup.Destination, primary.Destination)
	if err != nil {
		return Result{}, err
	}
	m, err := snapshot.ReadManifest(ctx, from, manifestKey)
	if err != nil {
		return Result{}, fmt.Errorf("promote: %w", err)
	}
	l := layout.ForStream(primary.Destination.BucketPath, primary.Destination.PathFormat, layout.Vars{
		Namespace: m.Namespace, Stream: m.Stream, Time: m.StartedAt, UUID: promoteUUID(m),
	})
	res := Result{Stream: m.Stream, From: m.Partition, To: l.Partition, JobID: m.JobID, Rows: m.Rows}
	if why, err := skipReason(ctx, to, l, m, p.Replace); err != nil || why != "" {
		res.Skipped = why
		return res, err
	}
	staged, err := stage(ctx, from, to, same, primary, l, m)
	if err != nil {
		return res, fmt.Errorf("promote %s: %w", m.Partition, err)
	}
	if p.Fence != nil {
		if err := p.Fence(ctx); err != nil {
			return res, fmt.Errorf("promote %s: %w", m.Partition, err)
		}
	}
	pm := *m
	pm.Status, pm.Files = StatusPromoted, nil
	committed, err := snapshot.Publish(ctx, to, l, pm, staged, false)
	if committed == nil {
		return res, fmt.Errorf("promote %s: %w", m.Partition, err)
	}
	if err == nil {
		err = snapshot.DeleteStaged(ctx, to, staged)
	}
	if err != nil {
		p.log().Warn("promoted with leftovers", "partition", l.Partition, "err", err)
	}
	res.Copy, res.Manifest, res.Rows = "streamed", l.ManifestKey(), committed.Rows
	if same {
		res.Copy = "server-side"
	}
	res.Files = committed.Keys()
	if p.State != nil {
		if err := p.State.RecordCommit(ctx, state.Commit{
			Connection: primary.ResourceName, Stream: m.Stream, Partition: l.Partition, JobID: m.JobID,
			ManifestKey: l.ManifestKey(), Rows: committed.Rows, Bytes: committed.Bytes, Files: len(committed.Files),
			Source: RoleBackup, Status: state.CommitPromoted,
		}); err != nil {
			return res, fmt.Errorf("promoted, but recording the commit failed: %w", err)
		}
	}
	p.log().Info("backup snapshot promoted", "stream", m.Stream, "from", m.Partition, "to", l.Partition,
		"job_id", m.JobID, "rows", committed.Rows, "copy", res.Copy)
	return res, nil
}

// skipReason says why the primary partition must keep what it has.
func skipReason(ctx context.Context, to storage.Store, l layout.Stream, m *snapshot.Manifest, replace bool) (string, error) {
	switch m.Status {
	case "committed", StatusPromoted:
	default:
		return fmt.Sprintf("the backup snapshot is %s", m.Status), nil
	}
	cur, err := snapshot.ReadManifest(ctx, to, l.ManifestKey())
	switch {
	case errors.Is(err, storage.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("promote: read the primary's manifest: %w", err)
	case cur.Connection == m.Connection && cur.JobID == m.JobID:
		return "already promoted", nil
	case !replace && cur.Source.Role != RoleBackup && !cur.StartedAt.Before(m.StartedAt):
		return fmt.Sprintf("the primary's own snapshot (job %d) is as new or newer", cur.JobID), nil
	}
	return "", nil
}

// stage puts a copy of each part of m in the primary's staging area:
// server-side when both connections write to the same store, streamed (and
// checked against the manifest's SHA-256) otherwise.
func stage(ctx context.Context, from, to storage.Store, same bool, primary *config.Connection, l layout.Stream, m *snapshot.Manifest) ([]snapshot.StagedPart, error) {
	prefix := layout.StagingPrefix(primary.Destination.BucketPath, primary.ResourceName+".promote", m.JobID)
	out := make([]snapshot.StagedPart, 0, len(m.Files))
	for i, f := range m.Files {
		key := layout.Join(prefix, m.Stream, strconv.Itoa(i+1)+".parquet")
		var err error
		if same {
			err = to.Copy(ctx, f.Key, key)
		} else {
			err = streamCopy(ctx, from, to, f, key)
		}
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", f.Key, err)
		}
		out = append(out, snapshot.StagedPart{StagingKey: key, Name: l.PartName(m.JobID, i+1),
			Rows: f.Rows, Bytes: f.Bytes, SHA256: f.SHA256})
	}
	return out, nil
}

func streamCopy(ctx context.Context, from, to storage.Store, f snapshot.File, key string) error {
	rc, err := from.Open(ctx, f.Key)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if err := to.Put(ctx, key, io.TeeReader(rc, h), f.Bytes); err != nil {
		return err
	}
	if f.SHA256 != "" && hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		_ = to.Delete(context.WithoutCancel(ctx), key)
		return fmt.Errorf("%w: %s", ErrChecksum, f.Key)
	}
	return nil
}

// stores opens both destinations; same says they are one store (the same
// directory, or the same bucket with the same endpoint and credentials),
// where a copy stays on the server.
func (p *Promoter) stores(ctx context.Context, from, to *config.Destination) (storage.Store, storage.Store, bool, error) {
	open := p.OpenStore
	if open == nil {
		open = connect.Store
	}
	dst, err := open(ctx, to)
	if err != nil {
		return nil, nil, false, fmt.Errorf("promote: %w", err)
	}
	if sameStore(from, to) {
		return dst, dst, true, nil
	}
	src, err := open(ctx, from)
	if err != nil {
		return nil, nil, false, fmt.Errorf("promote: %w", err)
	}
	return src, dst, false, nil
}

func sameStore(a, b *config.Destination) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == config.KindLocal {
		return a.LocalPath == b.LocalPath
	}
	ka, kb := a.Keys(), b.Keys()
	return a.Bucket == b.Bucket && a.Endpoint == b.Endpoint && a.Region == b.Region &&
		ka.AccessKeyID.Reveal() == kb.AccessKeyID.Reveal() && ka.SecretAccessKey.Reveal() == kb.SecretAccessKey.Reveal()
}

// promoteUUID is ${UUID} for a promotion: one value per backup job.
func promoteUUID(m *snapshot.Manifest) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("acode:promote:"+m.Connection+":"+strconv.FormatInt(m.JobID, 10))).String()
}

func (p *Promoter) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
