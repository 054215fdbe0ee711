package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acode-dev/acode/internal/state"
)

// Ranges exports, per source, the range tasks of live jobs (scale-out on
// a PostgreSQL state; see state.RangeStats) read at each scrape, and the
// source's read budget: reads in use against it say whether the budget,
// and not the replicas, bounds a sync.
type Ranges struct {
	store   *state.Store
	budgets map[string]int // configured budget per source, exported while no task says otherwise
	log     *slog.Logger
	timeout time.Duration

	tasks, reads, budget *prometheus.Desc
}

// NewRanges returns the collector of the store's range tasks. budgets are
// the sources to export even while they have no task, with their
// configured max_parallel_reads.
func NewRanges(store *state.Store, budgets map[string]int, log *slog.Logger) *Ranges {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	return &Ranges{store: store, budgets: budgets, log: log, timeout: 5 * time.Second,
		tasks: d("range_tasks", "Range tasks of live jobs reading the source, by state: queued (waiting for a worker), "+
			"claimed (a worker reads or uploads it), expired (claimed, lease ran out: claimable again), failed (failed 3 times).",
			"source", "state"),
		reads: d("source_reads", "Range reads of the source running now under a live claim: the part of its read budget in use.", "source"),
		budget: d("source_read_budget", "The source's read budget across the cluster (sync.max_parallel_reads of its jobs' range tasks).",
			"source"),
	}
}

// Describe sends the descriptors.
func (r *Ranges) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.tasks
	ch <- r.reads
	ch <- r.budget
}

// Collect reads the store; on an error nothing is exported (Status's
// acode_state_readable says the store is unreadable).
func (r *Ranges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	stats, err := r.store.RangeStats(ctx)
	if err != nil {
		r.log.Warn("metrics: read the range tasks", "err", err)
		return
	}
	seen := map[string]bool{}
	for _, s := range stats {
		seen[s.Source] = true
		r.send(ch, s)
	}
	for src, b := range r.budgets {
		if !seen[src] {
			r.send(ch, state.SourceRanges{Source: src, Budget: b})
		}
	}
}

func (r *Ranges) send(ch chan<- prometheus.Metric, s state.SourceRanges) {
	g := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	g(r.tasks, s.Queued, s.Source, "queued")
	g(r.tasks, s.Claimed, s.Source, "claimed")
	g(r.tasks, s.Expired, s.Source, "expired")
	g(r.tasks, s.Failed, s.Source, "failed")
	g(r.reads, s.Reads, s.Source)
	g(r.budget, s.Budget, s.Source)
}
