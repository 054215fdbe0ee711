package alert

import (
	"context"
	"fmt"

	"github.com/acode-dev/acode/internal/failure"
)

// KindCDCRetention is a CDC reader whose checkpoint is near the oldest
// binlog its server holds: the next purge would lose changes.
const KindCDCRetention = "cdc_binlog_retention"

// CDCRetention raises cdc_binlog_retention/<connection> (warning) when the
// binlog files the server holds before the one the checkpoint needs are
// fewer than threshold (0: the checkpoint is in the oldest file), and
// clears it when there are threshold or more again (or the checkpoint is
// in the active file, which is never purged).
func (m *Manager) CDCRetention(ctx context.Context, connection, server, checkpoint, oldest string, headroom, threshold int, near bool) error {
	key := Key(KindCDCRetention, connection)
	title := "CDC checkpoint near the oldest binlog on " + connection
	metrics := map[string]any{"files_before_checkpoint": headroom, "threshold_files": threshold}
	if !near {
		return m.Clear(ctx, key, Details{Title: title, Metrics: metrics,
			Message: fmt.Sprintf("✅ The checkpoint of %s (%s) is clear of the oldest binlog of %s again.", connection, checkpoint, server)})
	}
	return m.Raise(ctx, key, failure.Warning, Details{
		Title: title, Metrics: metrics, System: "ACODE CDC " + connection,
		Message: fmt.Sprintf("The checkpoint of %s (%s) needs binlog files of %s from %s on, and the server holds only %d file(s) before "+
			"that one (threshold cdc.retention_alert_files %d): the next purge of the binlog can pass the checkpoint and lose changes.",
			connection, checkpoint, server, oldest, headroom, threshold),
		Action: "Let the reader catch up (check the cdc_lag alert and its log), or keep the binlog longer on the server " +
			"(binlog_expire_logs_seconds); a purge past the checkpoint follows invalid_cdc_cursor_position_behavior.",
	})
}
