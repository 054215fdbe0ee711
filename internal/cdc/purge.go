package cdc

import (
	"context"
	"errors"
	"fmt"
)

// Purge is what a reader found when the server no longer held the binlog
// after some streams' checkpoints (purged past them).
type Purge struct {
	Connection string
	Server     string
	Oldest     string   // the oldest binlog file the server holds
	Start      Position // the GTID position at its start
	Streams    []string // the change logs whose checkpoint is purged
	Positions  []string // their checkpoints
	// Resync is set when the streams are backfilled again by ranges
	// (invalid_cdc_cursor_position_behavior Re-sync data); otherwise the
	// reader stops (Fail sync).
	Resync bool
}

// resyncPurged handles a *PositionError: when the server read no longer
// holds the binlog after some streams' checkpoints, OnPurged is told and,
// with Resync, those streams are backfilled again by ranges (each range's
// snapshot position, as a first backfill) and the reader goes on from the
// new positions; the other streams keep their checkpoints. It returns
// false when the error is not a purge or the reader is to stop.
func (r *run) resyncPurged(ctx context.Context, err error) (bool, error) {
	var perr *PositionError
	if !errors.As(err, &perr) || r.cfg.Retention == nil {
		return false, nil
	}
	ret, rerr := r.cfg.Retention(ctx)
	if rerr != nil {
		return false, fmt.Errorf("%w; reading the binlogs the server holds: %w", err, rerr)
	}
	p := Purge{Connection: r.cfg.Connection, Server: perr.Endpoint, Resync: r.cfg.Resync && r.cfg.Backfill != nil}
	var purged []*landing
	for _, l := range r.landings {
		if ret.Purged(l.pos) {
			purged = append(purged, l)
			p.Streams, p.Positions = append(p.Streams, l.table.Name), append(p.Positions, l.pos.String())
		}
	}
	if len(purged) == 0 {
		return false, nil
	}
	p.Oldest, p.Start = ret.Files[0].Name, ret.Files[0].Start
	if r.cfg.OnPurged != nil {
		r.cfg.OnPurged(ctx, p)
	}
	if !p.Resync {
		return false, nil
	}
	if err := r.commitAll(ctx); err != nil {
		return false, err
	}
	for _, l := range purged {
		r.cfg.Log.Warn("cdc binlog purged past the stream's checkpoint: backfilling it again by ranges",
			"table", l.table.Name, "checkpoint", l.pos.String(), "oldest_binlog", p.Oldest, "oldest_start", p.Start.String())
		pos, err := l.backfill(ctx, r.cfg.Backfill)
		if err != nil {
			return false, fmt.Errorf("backfill %s again after its binlog was purged: %w", l.table.Name, err)
		}
		l.pos = pos
	}
	positions := make([]Position, 0, len(r.landings))
	for _, l := range r.landings {
		positions = append(positions, l.pos)
	}
	r.read = Earliest(positions)
	r.cfg.Log.Info("cdc streams backfilled again; reading on", "streams", len(purged), "from", r.read.String())
	return true, nil
}
