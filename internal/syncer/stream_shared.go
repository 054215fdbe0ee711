package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/state"
)

// sharedPollEvery is how often a job's owner looks at the range tasks it
// queued while workers of any replica read them.
const sharedPollEvery = 250 * time.Millisecond

// readShared is readAll for a Syncer with SharedRanges: the ranges no
// earlier attempt uploaded are queued as range tasks in the state, and the
// range workers of every replica (RangeWorkers, this one's included) claim,
// read, upload and record them. The owner waits until every task is done;
// it then commits as when it read them itself. A task failed
// state.MaxRangeFailures times fails the stream's attempt with its error.
func (r *streamRun) readShared(ctx context.Context, todo []mysql.Range, sp *StreamProgress) error {
	st := r.syncer.Project.Settings.Sync
	idx := make([]int, len(todo))
	for i, rg := range todo {
		idx[i] = rg.Index
	}
	if err := r.syncer.State.QueueRanges(ctx, r.job.ID, r.stream.Name, r.conn.Source.ResourceName, st.MaxParallelReads, r.attempt, idx); err != nil {
		return err
	}
	r.log.Info("ranges queued for the range workers of every replica", "ranges", len(idx), "source_budget", st.MaxParallelReads)
	want := map[int]bool{}
	for _, i := range idx {
		want[i] = true
	}
	seen := map[string]bool{} // parts already counted in the progress
	counted := -1             // done tasks when the progress was last counted
	t := time.NewTicker(sharedPollEvery)
	defer t.Stop()
	for {
		tasks, err := r.syncer.State.RangeTasks(ctx, r.job.ID, r.stream.Name)
		if err != nil {
			return err
		}
		done := 0
		for _, task := range tasks {
			if !want[task.Index] || task.Attempt != r.attempt {
				continue
			}
			switch task.Status {
			case state.RangeDone:
				done++
			case state.RangeFailed:
				return failure.Source(r.stream.Name, fmt.Errorf("range %d failed %d times on the range workers: %s", task.Index, task.Failures, task.Error))
			}
		}
		if done != counted { // the parts are read only when some were added
			if err := r.countShared(ctx, seen, sp); err != nil {
				return err
			}
			counted = done
		}
		if done == len(idx) {
			// The done tasks stay (with the job) as the record of
			// which worker read which range.
			r.logReaders(tasks)
			return r.addNulled(ctx, tasks)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// countShared adds the rows and bytes of the parts recorded since the last
// look to the stream's progress.
func (r *streamRun) countShared(ctx context.Context, seen map[string]bool, sp *StreamProgress) error {
	parts, err := r.syncer.State.Parts(ctx, r.job.ID, r.stream.Name)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if !seen[p.Key] {
			seen[p.Key] = true
			sp.rows.Add(p.Rows)
			sp.bytes.Add(p.Bytes)
		}
	}
	return nil
}

// logReaders says which workers read the stream's ranges, so an operator
// sees the reads spread over the replicas.
func (r *streamRun) logReaders(tasks []state.RangeTask) {
	by := map[string]int{}
	for _, t := range tasks {
		by[t.Owner]++
	}
	r.log.Info("ranges read by the range workers", "ranges", len(tasks), "readers", len(by), "ranges_by_reader", fmt.Sprint(by))
}

// addNulled adds the values the parts of this attempt's tasks wrote as
// NULL to the stream's counts (the manifest's nulled_values), as the
// attempt's own workers add theirs.
func (r *streamRun) addNulled(ctx context.Context, tasks []state.RangeTask) error {
	mine := map[string]bool{}
	for _, t := range tasks {
		if t.Attempt == r.attempt && t.PartKey != "" {
			mine[t.PartKey] = true
		}
	}
	parts, err := r.syncer.State.Parts(ctx, r.job.ID, r.stream.Name)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if mine[p.Key] {
			r.nulled.add(p.Nulled)
		}
	}
	return nil
}
