package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acode-dev/acode/internal/cdc"
)

// CDC exposes the binlog readers running in this process. They run on the
// cluster's leader only, so their figures come from the running readers
// (scrape the leader) rather than the state store: the lag and change
// counts change with every transaction, far too often to write per event.
type CDC struct {
	mu      sync.Mutex
	readers map[string]*cdc.Stats

	changes, transactions, lag, checkpoint *prometheus.Desc
}

func newCDC() *CDC {
	l := []string{"connection"}
	return &CDC{readers: map[string]*cdc.Stats{},
		changes:      prometheus.NewDesc("acode_cdc_changes_total", "Row changes the connection's CDC reader landed since it started.", l, nil),
		transactions: prometheus.NewDesc("acode_cdc_transactions_total", "Whole transactions the connection's CDC reader landed since it started.", l, nil),
		lag: prometheus.NewDesc("acode_cdc_lag_seconds",
			"Seconds from the commit on MySQL to the commit in bronze of the oldest transaction of the reader's last commit (0: nothing was behind).", l, nil),
		checkpoint: prometheus.NewDesc("acode_cdc_last_checkpoint_timestamp_seconds", "When the reader last committed and moved its checkpoint (Unix time).", l, nil),
	}
}

// Set starts exposing the reader of connection; nil stops.
func (c *CDC) Set(connection string, s *cdc.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == nil {
		delete(c.readers, connection)
		return
	}
	c.readers[connection] = s
}

// Describe implements prometheus.Collector.
func (c *CDC) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.changes
	ch <- c.transactions
	ch <- c.lag
	ch <- c.checkpoint
}

// Collect implements prometheus.Collector.
func (c *CDC) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for conn, s := range c.readers {
		t := s.Snapshot()
		ch <- prometheus.MustNewConstMetric(c.changes, prometheus.CounterValue, float64(t.Changes), conn)
		ch <- prometheus.MustNewConstMetric(c.transactions, prometheus.CounterValue, float64(t.Transactions), conn)
		if !t.CommittedAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, t.LastLag.Seconds(), conn)
			ch <- prometheus.MustNewConstMetric(c.checkpoint, prometheus.GaugeValue, float64(t.CommittedAt.Unix()), conn)
		}
	}
}
