package cdc

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// SyncModeSnapshot is the sync_mode of a compacted snapshot's manifest.
const SyncModeSnapshot = "cdc_snapshot"

// build merges base and the day's changes into new parts and commits them
// as the partition lay through the manifest protocol: parts staged, the
// manifest (replacing the files of any earlier snapshot of the day)
// published, superseded parts removed. What a killed run left is removed
// first, so a run killed anywhere is redone from the start by the next.
func (sc *streamCompaction) build(ctx context.Context, lay layout.Stream, day time.Time, base, changes *snapshot.Manifest,
	inputs snapshot.Compaction, res *CompactResult) (*snapshot.Manifest, error) {
	newest := changes
	if newest == nil {
		newest = base
	}
	for _, in := range []*snapshot.Manifest{base, changes} {
		// Airbyte's layout keeps some columns as {member0, member1}
		// groups, which the manifest's columns do not map back to one
		// MySQL column: compacting them would drop those columns.
		if in != nil && in.Schema.TypeMode == string(parquet.ModeAirbyte) {
			return nil, fmt.Errorf("%s was written with sync.types airbyte; compaction reads change logs of sync.types exact only", in.Partition)
		}
	}
	m := &compactMerge{out: newest.Table(), keysPerPass: DefaultCompactKeysPerPass, seed: maphash.MakeSeed()}
	if n := sc.c.Project.Settings.CDC.CompactKeysPerPass; n > 0 {
		m.keysPerPass = n
	}
	if sc.c.KeysPerPass > 0 {
		m.keysPerPass = sc.c.KeysPerPass
	}
	for _, path := range sc.stream.PrimaryKey {
		if len(path) > 0 {
			m.keyNames = append(m.keyNames, path[len(path)-1])
		}
	}
	if len(m.keyNames) == 0 {
		return nil, fmt.Errorf("stream %s has no primary key to keep the newest row of", sc.stream.Name)
	}
	defer m.close()
	for _, in := range []*snapshot.Manifest{base, changes} {
		if in == nil {
			continue
		}
		if err := m.add(ctx, sc, in); err != nil {
			return nil, err
		}
	}
	if changes != nil {
		res.Changes = changes.Rows
	}
	ps, err := parquet.NewSchema(m.out, sc.mode)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", sc.stream.Name, err)
	}
	started := time.Now().UTC()
	w := &partWriter{dir: sc.spool, schema: ps, day: day, emitted: started, opts: sc.opts}
	defer w.discard()
	deleted, err := m.write(w)
	if err != nil {
		return nil, err
	}
	w.finish()
	res.Deleted, res.Passes = deleted, m.passes()
	staged, err := sc.stage(ctx, lay, w.done, started)
	if err != nil {
		return nil, err
	}
	inputs.Key, inputs.Changes, inputs.Deleted, inputs.Passes = m.keyNames, res.Changes, deleted, res.Passes
	man := snapshot.Manifest{
		Connection: sc.conn.ResourceName, Stream: sc.stream.Name, Namespace: sc.conn.Namespace(sc.stream),
		SyncMode: SyncModeSnapshot, Source: newest.Source, StartedAt: started, EmittedAt: started,
		Schema:     snapshot.Schema{Fingerprint: m.out.Fingerprint(), TypeMode: sc.types, Columns: manifestColumns(m.out, ps)},
		Cursor:     newest.Cursor,
		Compaction: &inputs,
	}
	sc.log().Info("cdc snapshot staged", "stream", sc.stream.Name, "day", res.Day, "parts", len(staged))
	if _, _, err := snapshot.RepairPartition(ctx, sc.store, lay); err != nil {
		return nil, fmt.Errorf("repair %s: %w", lay.Partition, err)
	}
	committed, err := snapshot.Publish(ctx, sc.store, lay, man, staged, false)
	if committed == nil {
		return nil, fmt.Errorf("commit snapshot %s: %w", lay.Partition, err)
	}
	if err == nil {
		err = snapshot.DeleteStaged(ctx, sc.store, staged)
	}
	if err != nil {
		sc.log().Warn("snapshot committed with leftovers", "partition", lay.Partition, "err", err)
	}
	return committed, nil
}

// stage uploads the parts under names unique to this run (its start in
// milliseconds), so the parts of the snapshot being replaced stay readable
// until the new manifest is written.
func (sc *streamCompaction) stage(ctx context.Context, lay layout.Stream, parts []*logFile, started time.Time) ([]snapshot.StagedPart, error) {
	run := started.UnixMilli()
	prefix := layout.Join(compactStaging(sc.conn), strconv.FormatInt(run, 10))
	var staged []snapshot.StagedPart
	for i, lf := range parts {
		sha, err := lf.close()
		if err != nil {
			return nil, err
		}
		name := lay.PartName(run, i+1)
		key := layout.Join(prefix, sc.stream.Name, strconv.Itoa(i+1)+".parquet")
		if err := storage.PutFile(ctx, sc.store, key, lf.f, lf.size); err != nil {
			return nil, fmt.Errorf("stage snapshot part %s: %w", name, err)
		}
		staged = append(staged, snapshot.StagedPart{StagingKey: key, Name: name, Rows: lf.rows, Bytes: lf.size, SHA256: sha})
	}
	return staged, nil
}

// compactStaging is where a connection's compactions stage their parts:
// beside the syncs' and the readers' staging areas, under its own name.
func compactStaging(conn *config.Connection) string {
	return layout.StagingRoot(conn.Destination.BucketPath, conn.ResourceName+"_compact")
}

// clearStaging removes what a killed compaction left staged (under the
// lock, no other compaction of the connection runs).
func clearStaging(ctx context.Context, store storage.Store, prefix string) error {
	var keys []string
	err := store.List(ctx, prefix+"/", func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list compaction staging area: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	if err := store.Delete(ctx, keys...); err != nil {
		return fmt.Errorf("clear compaction staging area: %w", err)
	}
	return nil
}
