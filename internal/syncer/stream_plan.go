package syncer

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/schema"
)

// plan is the persisted read plan of a stream in a job: the same ranges and
// cursor bounds are used by every attempt, so a retry can skip what an
// earlier attempt uploaded.
type plan struct {
	Ranges       []mysql.Range `json:"ranges"`
	CursorColumn string        `json:"cursor_column,omitempty"`
	CursorAfter  *string       `json:"cursor_after,omitempty"`
	CursorUpTo   *string       `json:"cursor_up_to,omitempty"`
}

// loadPlan returns the job's plan for the stream, making it on the first
// attempt.
func (r *streamRun) loadPlan(ctx context.Context, table schema.Table) (plan, error) {
	var p plan
	raw, ok, err := r.syncer.State.Plan(ctx, r.job.ID, r.stream.Name)
	if err != nil {
		return p, err
	}
	if ok {
		if err := json.Unmarshal(raw, &p); err != nil {
			return p, fmt.Errorf("decode stored plan of stream %s: %w", r.stream.Name, err)
		}
		return p, nil
	}
	if r.stream.SyncMode == "incremental" {
		if err := r.planCursor(ctx, table, &p); err != nil {
			return p, failure.Source(r.stream.Name, err)
		}
	}
	p.Ranges, err = mysql.PlanRanges(ctx, r.ep.db, table, r.syncer.Project.Settings.Sync.ChunkRows)
	if err != nil {
		return p, failure.Source(r.stream.Name, fmt.Errorf("plan ranges: %w", err))
	}
	raw, err = json.Marshal(p)
	if err != nil {
		return p, err
	}
	return p, r.syncer.State.SavePlan(ctx, r.job.ID, r.stream.Name, raw)
}

// planCursor fixes the incremental bounds: after the committed cursor, up to
// the maximum at the start of the job, so rows committed while the job runs
// are read by the next one instead of being skipped.
func (r *streamRun) planCursor(ctx context.Context, table schema.Table, p *plan) error {
	if len(r.stream.CursorField) != 1 {
		return fmt.Errorf("incremental stream %s needs exactly one cursor_field column, got %v", r.stream.Name, r.stream.CursorField)
	}
	col, ok := table.Column(r.stream.CursorField[0])
	if !ok {
		return fmt.Errorf("cursor_field %s is not a column of %s.%s", r.stream.CursorField[0], table.Namespace, table.Name)
	}
	p.CursorColumn = col.Name
	cur, found, err := r.syncer.State.GetCursor(ctx, r.conn.ResourceName, r.stream.Name)
	if err != nil {
		return err
	}
	if found {
		v := cur.Value
		p.CursorAfter = &v
	}
	upTo, any, err := mysql.CursorMax(ctx, r.ep.db, table, col.Name)
	if err != nil {
		return fmt.Errorf("read cursor bound: %w", err)
	}
	if any {
		p.CursorUpTo = &upTo
	}
	return nil
}
