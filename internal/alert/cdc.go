package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

// KindCDCLag is a CDC reader whose change log is further behind MySQL than
// cdc.lag_alert: bronze is stale although the reader runs.
const KindCDCLag = "cdc_lag"

// CDCLag raises cdc_lag/<connection> (warning) when lag passes threshold
// and clears it when the reader is back under it.
func (m *Manager) CDCLag(ctx context.Context, connection string, lag, threshold time.Duration) error {
	key := Key(KindCDCLag, connection)
	title := "CDC lag on " + connection
	metrics := map[string]any{"lag_seconds": lag.Seconds(), "threshold_seconds": threshold.Seconds()}
	if lag <= threshold {
		return m.Clear(ctx, key, Details{Title: title, Metrics: metrics,
			Message: fmt.Sprintf("✅ The change log of %s is %s behind MySQL again (threshold %s).", connection, lag, threshold)})
	}
	return m.Raise(ctx, key, failure.Warning, Details{
		Title: title, Metrics: metrics, System: "ACODE CDC " + connection,
		Message: fmt.Sprintf("The change log of %s was committed %s after its transactions' commit on MySQL (threshold cdc.lag_alert %s).",
			connection, lag.Round(time.Second), threshold),
		Action: "Check the reader's log (`cdc progress` lines) and the server it reads: a slow or lagging replica, the S3 store, " +
			"or a flush_interval near the threshold.",
	})
}
