package state

import (
	"context"
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

// OpenRun records that owner's run drives the chain job head begins.
func (s *Store) OpenRun(ctx context.Context, head int64, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE jobs SET run_owner = ? WHERE id = ?`, owner, head); err != nil {
		return fmt.Errorf("open the run of job %d: %w", head, err)
	}
	return nil
}

// CloseRun records that owner's run of the chain head begins has ended; a
// run another replica took over since is left as it is.
func (s *Store) CloseRun(ctx context.Context, head int64, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE jobs SET run_owner = '' WHERE id = ? AND run_owner = ?`, head, owner); err != nil {
		return fmt.Errorf("close the run of job %d: %w", head, err)
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
