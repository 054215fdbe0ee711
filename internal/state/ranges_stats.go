package state

import (
	"context"
	"fmt"
	"sort"
)

// SourceRanges is what the range tasks of live jobs hold of one source
// at a moment: the work waiting and the share of its read budget in use.
type SourceRanges struct {
	Source  string
	Budget  int // the tasks' max_parallel_reads (the largest, when jobs differ)
	Queued  int // waiting for a worker
	Claimed int // held by a worker under a live lease (reading or uploading)
	Expired int // claimed, but the lease ran out or the owner is gone: claimable again
	Reads   int // live claims still reading the source: the budget in use
	Failed  int // failed MaxRangeFailures times (their stream's attempt fails)
}

// RangeStats returns, per source (in source order), the range tasks of
// live jobs; tasks of ended jobs are not work and are left out. Queued and
// failed tasks are counted by the database; claimed ones (one per running
// worker) are read to tell live claims from expired ones.
func (s *Store) RangeStats(ctx context.Context) ([]SourceRanges, error) {
	by := map[string]*SourceRanges{}
	var order []string
	get := func(src string) *SourceRanges {
		if r, ok := by[src]; ok {
			return r
		}
		by[src] = &SourceRanges{Source: src}
		order = append(order, src)
		return by[src]
	}
	rows, err := s.db.QueryContext(ctx, `SELECT t.source, t.status, COUNT(*), MAX(t.budget)
		FROM range_tasks t JOIN jobs j ON j.id = t.job_id
		WHERE t.status IN ('queued','failed') AND j.status IN ('pending','running','incomplete')
		GROUP BY t.source, t.status ORDER BY t.source, t.status`)
	if err != nil {
		return nil, fmt.Errorf("range task counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			src       string
			status    RangeTaskStatus
			n, budget int
		)
		if err := rows.Scan(&src, &status, &n, &budget); err != nil {
			return nil, fmt.Errorf("range task counts: %w", err)
		}
		r := get(src)
		r.Budget = max(r.Budget, budget)
		if status == RangeQueued {
			r.Queued = n
		} else {
			r.Failed = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("range task counts: %w", err)
	}
	if err := s.claimStats(ctx, get); err != nil {
		return nil, err
	}
	sort.Strings(order)
	out := make([]SourceRanges, 0, len(order))
	for _, src := range order {
		out = append(out, *by[src])
	}
	return out, nil
}

// claimStats adds the claimed tasks of live jobs to their source's counts.
func (s *Store) claimStats(ctx context.Context, get func(string) *SourceRanges) error {
	now := s.clock()
	rows, err := s.db.QueryContext(ctx, `SELECT t.source, t.budget, t.owner, t.lease_until, t.reading
		FROM range_tasks t JOIN jobs j ON j.id = t.job_id
		WHERE t.status = 'claimed' AND j.status IN ('pending','running','incomplete') ORDER BY t.source`)
	if err != nil {
		return fmt.Errorf("claimed range tasks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			src, owner, until string
			budget, reading   int
		)
		if err := rows.Scan(&src, &budget, &owner, &until, &reading); err != nil {
			return fmt.Errorf("claimed range tasks: %w", err)
		}
		r := get(src)
		r.Budget = max(r.Budget, budget)
		switch {
		case !live(now, owner, until):
			r.Expired++
		case reading == 1:
			r.Claimed++
			r.Reads++
		default:
			r.Claimed++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("claimed range tasks: %w", err)
	}
	return nil
}
