package metrics

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acode-dev/acode/internal/scratch"
)

// Scratch exports the bytes of part files jobs keep on local disk
// (sync.spool_dir), read at each scrape. A running job's grows and goes
// when it ends; a value that stays up while nothing runs is what a dead
// job left and the next run or a restart of the service removes.
type Scratch struct {
	dir   scratch.Dir
	log   *slog.Logger
	bytes *prometheus.Desc
}

// NewScratch returns the collector of dir's usage.
func NewScratch(dir scratch.Dir, log *slog.Logger) *Scratch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scratch{dir: dir, log: log, bytes: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "scratch_bytes"),
		"Bytes of part files the connection's jobs hold in the local scratch dir (spool and kept copies).", []string{"connection"}, nil)}
}

// Describe sends the descriptor.
func (s *Scratch) Describe(ch chan<- *prometheus.Desc) { ch <- s.bytes }

// Collect walks the scratch dir.
func (s *Scratch) Collect(ch chan<- prometheus.Metric) {
	usage, err := s.dir.Usage()
	if err != nil {
		s.log.Warn("metrics: read the scratch dir", "err", err)
		return
	}
	for conn, n := range usage {
		ch <- prometheus.MustNewConstMetric(s.bytes, prometheus.GaugeValue, float64(n), conn)
	}
}
