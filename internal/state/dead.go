package state

import (
	"context"
	"errors"
)

// JobDead reports whether nothing runs job id any more: it has ended, it
// is unknown to the store, or it is live in the store but its owner
// stopped heartbeating past the lease or is a process of this host that is
// gone (the rules CreateJob takes a connection over by). What such a job
// left on local disk can go; a job another process still runs keeps it.
func (s *Store) JobDead(ctx context.Context, id int64) (bool, error) {
	j, err := s.Job(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if j.Status.Terminal() {
		return true, nil
	}
	if queued(j) {
		return false, nil // a replica will claim it
	}
	return s.clock().Sub(j.HeartbeatAt) >= s.lease || ownerGone(j.Owner), nil
}
