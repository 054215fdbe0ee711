package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// direct is how a stream's parts go to a store that defers uploads (S3):
// each part is uploaded straight to its published key and left pending,
// invisible to readers, until the commit completes it. Staging the part
// and copying it into the partition at commit wrote every byte twice on
// the server and made a large commit take minutes.
type direct struct {
	d     storage.Deferrer
	l     layout.Stream
	jobID int64
	last  atomic.Int64 // the last part number handed out
	// keepDir holds each finished part file until the stream's quality
	// verdict, so that a quarantine can store the bytes elsewhere: a
	// pending upload can only be completed where it is, which would
	// publish it. "" when quarantine is off.
	keepDir string
}

// startDirect prepares the direct upload of a stream's parts: it aborts
// pending uploads in the partition that no recorded part of this job owns
// (a killed process's, or an earlier job's), and numbers new parts after
// the recorded ones. The connection's job lock means no other writer has
// an upload running in its partitions. close removes the kept files.
func (r *streamRun) startDirect(ctx context.Context, d storage.Deferrer, l layout.Stream, recorded []state.Part) (*direct, error) {
	owned := map[string]bool{}
	dp := &direct{d: d, l: l, jobID: r.job.ID}
	for _, p := range recorded {
		if pend, ok, err := pendingOf(p); err != nil {
			return nil, err
		} else if ok {
			owned[pend.ID] = true
		}
		if n, ok := l.PartNumber(r.job.ID, p.Key); ok && int64(n) > dp.last.Load() {
			dp.last.Store(int64(n))
		}
	}
	strays := 0
	err := d.ListDeferred(ctx, l.Partition+"/", func(p storage.Pending) error {
		if owned[p.ID] {
			return nil
		}
		strays++
		return d.AbortDeferred(ctx, p)
	})
	if err != nil {
		return nil, fmt.Errorf("abort stray uploads in %s: %w", l.Partition, err)
	}
	if strays > 0 {
		r.log.Info("aborted uploads of crashed or superseded jobs", "partition", l.Partition, "uploads", strays)
	}
	if q := r.syncer.Project.Settings.Quality; q.Enabled && q.Quarantine {
		if dp.keepDir, err = tempDir(r.scratch, "kept", r.stream.Name); err != nil {
			return nil, fmt.Errorf("create dir for part files kept until the quality verdict: %w", err)
		}
	}
	return dp, nil
}

// nextKey is the published key of the stream's next part.
func (dp *direct) nextKey() string {
	return dp.l.PartKey(dp.jobID, int(dp.last.Add(1)))
}

// keepPath is where the finished file of the part at key waits for the
// quality verdict; "" when files are not kept.
func (dp *direct) keepPath(key string) string {
	if dp == nil || dp.keepDir == "" {
		return ""
	}
	return filepath.Join(dp.keepDir, path.Base(key))
}

// kept is the kept local copy of the part at key, "" when there is none
// (the part was uploaded by an earlier attempt).
func (dp *direct) kept(key string) string {
	p := dp.keepPath(key)
	if p == "" {
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func (dp *direct) close() {
	if dp != nil && dp.keepDir != "" {
		os.RemoveAll(dp.keepDir)
	}
}

// pendingOf decodes a recorded part's pending upload; ok is false for a
// staged part.
func pendingOf(p state.Part) (storage.Pending, bool, error) {
	if p.Pending == "" {
		return storage.Pending{}, false, nil
	}
	var pend storage.Pending
	if err := json.Unmarshal([]byte(p.Pending), &pend); err != nil {
		return pend, false, fmt.Errorf("part %s of job %d: decode its pending upload: %w", p.Key, p.JobID, err)
	}
	return pend, true, nil
}

// stagedPart is what the commit needs of a recorded part.
func (r *streamRun) stagedPart(p state.Part, l layout.Stream, number int) (snapshot.StagedPart, error) {
	sp := snapshot.StagedPart{StagingKey: p.Key, Name: l.PartName(r.job.ID, number), Rows: p.Rows, Bytes: p.Bytes, SHA256: p.SHA256}
	pend, ok, err := pendingOf(p)
	if err != nil || !ok {
		return sp, err
	}
	sp.StagingKey, sp.Name, sp.Pending = "", path.Base(p.Key), &pend
	sp.Local = r.direct.kept(p.Key)
	return sp, nil
}

// forgetLost drops the record of a part whose pending upload was lost
// before the commit, so the next attempt reads its ranges again. A pending
// part is recorded under its published key.
func (r *streamRun) forgetLost(ctx context.Context, err error) {
	var lost *snapshot.LostPartError
	if !errors.As(err, &lost) {
		return
	}
	if ferr := r.syncer.State.ForgetPart(ctx, r.job.ID, r.stream.Name, lost.Key); ferr != nil {
		r.log.Warn("forget lost part", "key", lost.Key, "err", ferr)
	}
}

// abortPendingParts aborts the pending uploads a failed job recorded: no
// attempt will complete them.
func abortPendingParts(ctx context.Context, store storage.Store, st *state.Store, conn *config.Connection, jobID int64) error {
	d, ok := store.(storage.Deferrer)
	if !ok {
		return nil
	}
	for _, s := range conn.SelectedStreams() {
		parts, err := st.Parts(ctx, jobID, s.Name)
		if err != nil {
			return err
		}
		for _, p := range parts {
			pend, ok, err := pendingOf(p)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := d.AbortDeferred(ctx, pend); err != nil {
				return fmt.Errorf("abort pending upload of %s: %w", p.Key, err)
			}
		}
	}
	return nil
}

// partNumber orders the parts of a stream by the number in their name.
func partNumber(l layout.Stream, jobID int64, p snapshot.StagedPart) int {
	n, _ := l.PartNumber(jobID, p.Name)
	return n
}
