package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// runAttempt runs every selected stream once; streams already committed by
// an earlier attempt of the same job are not run again.
func (s *Syncer) runAttempt(ctx context.Context, conn *config.Connection, job state.Job, attempt int, opts Options, res *Result, log *slog.Logger) error {
	streams := conn.SelectedStreams()
	if len(streams) == 0 {
		return fmt.Errorf("connection %s selects no stream (%s)", conn.ResourceName, conn.File)
	}
	ep, err := s.open(ctx, conn, streams)
	if err != nil {
		return err
	}
	defer ep.close()
	if err := cleanStaleStaging(ctx, ep.store, conn, job.ID); err != nil {
		log.Warn("clean staging of earlier jobs", "err", err)
	}

	st := s.Project.Settings.Sync
	reads := make(chan struct{}, st.MaxParallelReads)
	limit := mysql.NewRowLimiter(st.MaxRowsPerSecond)
	streamSlots := make(chan struct{}, max(1, st.ParallelStreams))
	results := make([]StreamResult, len(streams))
	errs := make([]error, len(streams))
	done := committedStreams(res)
	qjob := s.newQualityJob(job, streams, done)

	// Streams are independent: one that fails does not stop the others,
	// which commit (or are quarantined) on their own. Only the job's own
	// context (a cancel, the maximum duration) stops them all.
	var wg sync.WaitGroup
	for i, str := range streams {
		results[i] = res.Streams[i]
		if _, ok := done[str.Name]; ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer qjob.Done(str.Name)
			select {
			case streamSlots <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				results[i].Status, results[i].Error = StreamCancelled, ctx.Err().Error()
				return
			}
			defer func() { <-streamSlots }()
			run := &streamRun{
				syncer: s, conn: conn, stream: str, job: job, attempt: attempt,
				ep: ep, reads: reads, limit: limit, progress: opts.Progress, role: opts.Role,
				quality: qjob, log: log.With("stream", str.Name),
				scratch: s.Scratch().Job(conn.ResourceName, job.ID),
			}
			results[i], errs[i] = run.run(ctx)
		}()
	}
	wg.Wait()

	res.Streams, res.Rows, res.Bytes = results, 0, 0
	for _, r := range results {
		res.Rows += r.Rows
		res.Bytes += r.Bytes
	}
	if err := streamsError(streams, errs); err != nil {
		return err // staged parts stay for the retry to resume from
	}
	// Every stream is published: the staged copies go, all at once.
	if err := deleteStaging(ctx, ep.store, conn, job.ID); err != nil {
		log.Warn("delete staged parts of the committed job (the next job retries it)", "err", err)
	}
	return nil
}

// streamsError is the attempt's error when some streams failed: it names
// each of them with its own error, so the job says which failed and why.
func streamsError(streams []config.Stream, errs []error) error {
	e := &StreamsError{Of: len(streams)}
	for i, err := range errs {
		if err != nil {
			e.Failed = append(e.Failed, streams[i].Name)
			e.Errs = append(e.Errs, err)
		}
	}
	if len(e.Failed) == 0 {
		return nil
	}
	return e
}

// committedStreams returns the streams an earlier attempt already committed.
func committedStreams(res *Result) map[string]StreamResult {
	out := map[string]StreamResult{}
	for _, r := range res.Streams {
		if r.Status == StreamCommitted || r.Status == StreamQuarantined {
			out[r.Name] = r
		}
	}
	return out
}

// firstError prefers a real failure over the cancellations it caused.
func firstError(errs []error) error {
	var cancelled error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if isCancel(err) {
			if cancelled == nil {
				cancelled = err
			}
			continue
		}
		return err
	}
	return cancelled
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled)
}

// cleanStaleStaging removes staged parts of this connection's earlier jobs:
// a job that crashed before committing never publishes them. It also clears
// the debris of uploads a killed process left half done (temp files,
// incomplete multipart uploads): the connection's lock means no other
// process writes under its staging root, and no write of this job is in
// flight between attempts, so none of it can be live.
func cleanStaleStaging(ctx context.Context, store storage.Store, conn *config.Connection, current int64) error {
	root := layout.StagingRoot(conn.Destination.BucketPath, conn.ResourceName) + "/"
	mine := layout.StagingPrefix(conn.Destination.BucketPath, conn.ResourceName, current) + "/"
	if j, ok := store.(storage.Janitor); ok {
		if _, err := j.CleanIncomplete(ctx, root, 0); err != nil {
			return fmt.Errorf("clean interrupted uploads: %w", err)
		}
	}
	var stale []string
	err := store.List(ctx, root, func(o storage.ObjectInfo) error {
		if !strings.HasPrefix(o.Key, mine) {
			stale = append(stale, o.Key)
		}
		return nil
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	return store.Delete(ctx, stale...)
}

func deleteStaging(ctx context.Context, store storage.Store, conn *config.Connection, jobID int64) error {
	prefix := layout.StagingPrefix(conn.Destination.BucketPath, conn.ResourceName, jobID) + "/"
	var keys []string
	if err := store.List(ctx, prefix, func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return err
	}
	return store.Delete(ctx, keys...)
}

// stagingKey names a part in the job's staging area. The key carries the
// attempt that writes it and, for a range worker, its claim of the range
// (the fencing token): a worker that stalled past its lease and wakes
// after the job or the range moved writes an object no part record names,
// instead of overwriting the one the new owner uploaded and recorded.
func stagingKey(conn *config.Connection, jobID int64, attempt int, claim int64, stream string, firstRange int) string {
	name := "range-" + strconv.Itoa(firstRange) + "-a" + strconv.Itoa(attempt)
	if claim > 0 {
		name += "-c" + strconv.FormatInt(claim, 10)
	}
	return layout.Join(layout.StagingPrefix(conn.Destination.BucketPath, conn.ResourceName, jobID), stream, name+".parquet")
}
