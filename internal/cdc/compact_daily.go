package cdc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// CompactSchedule is the schedule_fires row of the daily compaction: the
// UTC day whose previous day was last compacted.
const CompactSchedule = "cdc/compact"

// ScheduleStore is the part of the state store that keeps the fire times
// of serve's schedules, shared by every replica.
type ScheduleStore interface {
	ScheduleFire(ctx context.Context, name string) (time.Time, error)
	ClaimScheduleFire(ctx context.Context, name string, last, at time.Time) (bool, error)
}

// CompactDaily is serve's daily compaction: once per UTC day (the fire
// time persisted in the state store, so once across replicas and
// restarts) every CDC connection's streams are compacted up to yesterday.
// ran is true for the one call that recorded the day done (false when it
// was already, or another process compacts now or recorded it first). The day is recorded done
// only when every connection succeeded, so a failure is tried again at the
// leader's next look; a stream with nothing to compact from yet (no
// backfill before yesterday) is not a failure.
func CompactDaily(ctx context.Context, c *Compactor, st ScheduleStore, connections []string, now time.Time) (ran bool, out []CompactResult, err error) {
	slot := now.UTC().Truncate(24 * time.Hour)
	last, err := st.ScheduleFire(ctx, CompactSchedule)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return false, nil, err
	}
	if !last.Before(slot) {
		return false, nil, nil
	}
	var errs []error
	for _, name := range connections {
		res, err := c.Compact(ctx, name, slot.AddDate(0, 0, -1))
		out = append(out, res...)
		switch {
		case errors.Is(err, ErrNoCompactionBase):
			c.log().Info("cdc compaction: nothing to compact from yet", "connection", name, "reason", err)
		case errors.Is(err, ErrCompactionRunning):
			// Another replica (a leader handing over) or a manual run
			// compacts it now; whoever finishes the day records it.
			c.log().Info("cdc compaction: another process compacts this connection now", "connection", name)
			return false, out, nil
		case err != nil:
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return true, out, fmt.Errorf("daily cdc compaction (tried again later): %w", errors.Join(errs...))
	}
	// The compare-and-set says who did the day: a replica that ran at the
	// same time found every snapshot up to date and records nothing.
	claimed, err := st.ClaimScheduleFire(ctx, CompactSchedule, last, slot)
	if err != nil {
		return true, out, err
	}
	return claimed, out, nil
}

// Connections names the project's connections with streams a reader lands.
func Connections(p *config.Project) []string {
	var out []string
	for _, name := range p.ConnectionNames() {
		if _, err := Streams(p.Connections[name]); err == nil {
			out = append(out, name)
		}
	}
	return out
}
