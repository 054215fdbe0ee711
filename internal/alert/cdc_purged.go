package alert

import (
	"context"
	"fmt"
	"strings"

	"github.com/acode-dev/acode/internal/failure"
)

// KindCDCPurged is a CDC reader whose server no longer holds the binlog
// after some streams' checkpoints: changes were lost to the change log.
const KindCDCPurged = "cdc_binlog_purged"

// CDCPurged raises cdc_binlog_purged/<connection>: critical when the
// reader stops (invalid_cdc_cursor_position_behavior Fail sync), a warning
// when the streams are backfilled again (Re-sync data). It stays open
// until acknowledged: someone should make the retention longer.
func (m *Manager) CDCPurged(ctx context.Context, connection, server, oldest, start string, streams, positions []string, resync bool) error {
	sev, did, action := failure.Critical, "The reader stopped (invalid_cdc_cursor_position_behavior: Fail sync).",
		"Backfill the streams again: set invalid_cdc_cursor_position_behavior: Re-sync data, or delete their checkpoints "+
			"(acode state) and start the reader; then keep the binlog longer (binlog_expire_logs_seconds) than the reader can be down."
	if resync {
		sev, did, action = failure.Warning, "Those streams are being backfilled again by primary-key ranges (Re-sync data); the reader goes on from the new snapshot positions.",
			"Keep the binlog longer (binlog_expire_logs_seconds) than the reader can be down. Until the day is compacted, "+
				"a merge-on-read view may still show rows deleted while the binlog was lost."
	}
	return m.Raise(ctx, Key(KindCDCPurged, connection), sev, Details{
		Title:   "CDC binlog purged past the checkpoint on " + connection,
		System:  "ACODE CDC " + connection,
		Metrics: map[string]any{"streams": len(streams)},
		Message: fmt.Sprintf("%s no longer holds the binlog after the checkpoint of %s (%s): its oldest binlog %s starts at %s. "+
			"Changes between them are lost to the change log. %s", server, strings.Join(streams, ", "), strings.Join(positions, "; "), oldest, start, did),
		Action: action,
	})
}
