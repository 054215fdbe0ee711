package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// schemaV17 makes every step of a failover pair's run resumable and
// fenced. run_epoch, on the chain's first job, counts the grants of the
// run (OpenRun, ClaimAbandonedRuns): a replica's writes for the run carry
// the epoch it was granted, so one that stalled and lost the run writes
// nothing once it wakes. error_class and error_on_source keep a job's
// failure as the failover machine reads it, and observed_job/_attempt, on
// the pair's state, the newest job attempt whose outcome the machine took
// in: a replica continuing a run whose driver died after the primary's
// job failed but before the machine learnt it feeds that outcome once.
const schemaV17 = `
ALTER TABLE jobs ADD COLUMN run_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN error_class TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN error_on_source INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_state ADD COLUMN observed_job INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_state ADD COLUMN observed_attempt INTEGER NOT NULL DEFAULT 0;
`

// ErrLostRun is returned for a write of a failover pair's run made under a
// grant another replica's claim has replaced: the run is that replica's
// now, and the one holding the old grant must stop without recording
// anything of it.
var ErrLostRun = errors.New("the run was taken over by another replica; this one may not record anything of it")

// RunLease is one grant of a run: the chain's first job, the replica it
// was granted to and the grant's number. The zero RunLease fences nothing
// (a run no replica can take over: one process on SQLite).
type RunLease struct {
	Head  int64
	Owner string
	Epoch int64
}

// Fenced reports whether writes under l are checked against the run.
func (l RunLease) Fenced() bool { return l.Head != 0 && l.Epoch != 0 }

// checkRun returns ErrLostRun unless l is still the run's grant, read in
// tx, the write transaction that then writes for the run: a claim cannot
// come in between (the write lock serializes them).
func checkRun(ctx context.Context, tx *txn, l RunLease) error {
	if !l.Fenced() {
		return nil
	}
	var owner string
	var epoch int64
	err := tx.QueryRowContext(ctx, `SELECT run_owner, run_epoch FROM jobs WHERE id = ?`, l.Head).Scan(&owner, &epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("run of job %d: %w", l.Head, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("run of job %d: %w", l.Head, err)
	}
	if owner != l.Owner || epoch != l.Epoch {
		return fmt.Errorf("run of job %d (grant %d to %s; now %d to %q): %w", l.Head, l.Epoch, l.Owner, epoch, owner, ErrLostRun)
	}
	return nil
}

// CheckRun returns ErrLostRun when l no longer grants its run, for a
// writer outside the state (the promotion's copies) to ask before each
// step.
func (s *Store) CheckRun(ctx context.Context, l RunLease) error {
	if !l.Fenced() {
		return nil
	}
	return inTx(ctx, s.db, func(tx *txn) error { return checkRun(ctx, tx, l) })
}

// CreateContinuingJob is CreateJob for the job that continues job prev in
// the run l grants (the failover's backup job): the job is created, linked
// as prev's continuation and checked against the run's grant in one write
// transaction, so a replica dying in between leaves either no job or one
// the chain leads to, and a replica that lost the run creates nothing.
func (s *Store) CreateContinuingJob(ctx context.Context, connection, source, owner string, prev int64, l RunLease) (Job, error) {
	return s.createJob(ctx, connection, source, owner, prev, l)
}
