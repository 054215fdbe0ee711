package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// schemaV14 names, on the first job of a chain, the replica whose run
// drives the chain while it goes on: a failover pair's run outlives its
// jobs (the primary's job has failed and the backup's is about to start,
// or the backup's has succeeded and its promotion runs), and every replica
// answering for the first id must tell that run from one that ended.
const schemaV14 = `
ALTER TABLE jobs ADD COLUMN run_owner TEXT NOT NULL DEFAULT '';
`

// OpenRun records that owner's run drives the chain job head begins and
// returns the grant its writes carry: a new one, so a replica that held
// the run before (stalled while this one took over its job) is fenced off.
func (s *Store) OpenRun(ctx context.Context, head int64, owner string) (RunLease, error) {
	l := RunLease{Head: head, Owner: owner}
	err := s.db.QueryRowContext(ctx, `UPDATE jobs SET run_owner = ?, run_epoch = run_epoch + 1 WHERE id = ? RETURNING run_epoch`,
		owner, head).Scan(&l.Epoch)
	if err != nil {
		return RunLease{}, fmt.Errorf("open the run of job %d: %w", head, err)
	}
	return l, nil
}

// CloseRun records that the run l grants has ended; a run another replica
// took over since is left as it is.
func (s *Store) CloseRun(ctx context.Context, l RunLease) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE jobs SET run_owner = '' WHERE id = ? AND run_owner = ? AND run_epoch = ?`,
		l.Head, l.Owner, l.Epoch); err != nil {
		return fmt.Errorf("close the run of job %d: %w", l.Head, err)
	}
	return nil
}

// RunLive reports whether the run of the chain job head begins still goes
// on: a replica opened it and has not closed it, and that replica was seen
// within fresh (a killed replica's open run counts as ended).
func (s *Store) RunLive(ctx context.Context, head int64, fresh time.Duration) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs j JOIN replicas r ON r.id = j.run_owner
		WHERE j.id = ? AND j.run_owner <> '' AND r.seen_at >= ?`, head, formatTime(s.clock().Add(-fresh))).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is the run of job %d live: %w", head, err)
	}
	return n > 0, nil
}

// AbandonedRun is a chain whose run's replica stopped (silent past the
// freshness, or gone) while no job of the chain was live: the run was
// between two of its jobs (the primary's job failed, the backup's not yet
// recorded) or promoting the backup's snapshot. Last, the chain's last
// job, is the step it had reached.
type AbandonedRun struct {
	Head      int64
	Last      Job
	PrevOwner string
	Lease     RunLease // the claim's grant, for the writes continuing the run
}

// ClaimAbandonedRuns hands owner the abandoned runs whose chain's last job
// ended within recent and for which eligible returns true: each becomes
// owner's run (RunLive reads it live again) and the caller continues it
// from its last job. A run with a live job is left to the job takeover
// (ClaimAbandoned). The claim compares and sets the run's owner, so of
// several replicas racing for a run exactly one gets it; the claim is a
// new grant (its epoch), so the stopped replica, should it wake, can
// neither write for the run nor close it.
func (s *Store) ClaimAbandonedRuns(ctx context.Context, owner string, fresh, recent time.Duration, eligible func(AbandonedRun) bool) ([]AbandonedRun, error) {
	now := s.clock()
	rows, err := s.db.QueryContext(ctx, `SELECT id, run_owner FROM jobs WHERE run_owner <> '' AND run_owner <> ?
		AND run_owner NOT IN (SELECT id FROM replicas WHERE seen_at >= ?) ORDER BY id`, owner, formatTime(now.Add(-fresh)))
	if err != nil {
		return nil, fmt.Errorf("list abandoned runs: %w", err)
	}
	var cands []AbandonedRun
	for rows.Next() {
		var a AbandonedRun
		if err := rows.Scan(&a.Head, &a.PrevOwner); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list abandoned runs: %w", err)
		}
		cands = append(cands, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list abandoned runs: %w", err)
	}
	var claimed []AbandonedRun
	for _, a := range cands {
		chain, err := s.JobChain(ctx, a.Head)
		if err != nil {
			return claimed, fmt.Errorf("abandoned run of job %d: %w", a.Head, err)
		}
		a.Last = chain[len(chain)-1]
		if !chainEnded(chain) || a.Last.EndedAt == nil || now.Sub(*a.Last.EndedAt) > recent || !eligible(a) {
			continue
		}
		a.Lease = RunLease{Head: a.Head, Owner: owner}
		err = s.db.QueryRowContext(ctx, `UPDATE jobs SET run_owner = ?, run_epoch = run_epoch + 1 WHERE id = ? AND run_owner = ?
			RETURNING run_epoch`, owner, a.Head, a.PrevOwner).Scan(&a.Lease.Epoch)
		if errors.Is(err, sql.ErrNoRows) {
			continue // another replica claimed it first
		}
		if err != nil {
			return claimed, fmt.Errorf("claim the run of job %d: %w", a.Head, err)
		}
		claimed = append(claimed, a)
	}
	return claimed, nil
}

// chainEnded reports whether every job of chain has ended.
func chainEnded(chain []Job) bool {
	for _, j := range chain {
		if !j.Status.Terminal() {
			return false
		}
	}
	return true
}
