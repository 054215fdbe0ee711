// Package metrics is acode's Prometheus registry: the job metrics kept
// here, Go runtime and process metrics, and whatever other parts of the
// service (health checks, failover, alerts) register on it. /metrics serves
// it in the Prometheus and OpenMetrics formats, which DataDog's agent
// scrapes too.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/syncer"
)

// Namespace prefixes every acode metric name.
const Namespace = "acode"

// Registry holds every metric the server exposes. Other packages add their
// own collectors with MustRegister; names should start with Namespace.
type Registry struct {
	reg  *prometheus.Registry
	Jobs *Jobs
	CDC  *CDC
}

// New returns a Registry with the job metrics and the Go runtime and
// process collectors registered.
func New() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	jobs := newJobs()
	reg.MustRegister(jobs.collectors()...)
	c := newCDC()
	reg.MustRegister(c)
	return &Registry{reg: reg, Jobs: jobs, CDC: c}
}

// MustRegister adds collectors; it panics on a duplicate name, a bug found
// at startup.
func (r *Registry) MustRegister(cs ...prometheus.Collector) { r.reg.MustRegister(cs...) }

// Handler serves the registry for scraping.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Jobs are the metrics of sync jobs, updated when a job ends.
type Jobs struct {
	total       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rows        *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
}

func newJobs() *Jobs {
	return &Jobs{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "jobs_total",
			Help: "Sync jobs ended, by connection and final status (succeeded, failed, cancelled).",
		}, []string{"connection", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "job_duration_seconds",
			Help: "Wall time of ended sync jobs, retries included.",
			// 10 s to about 5.7 h: the seed's jobs take 45 to 120 minutes.
			Buckets: prometheus.ExponentialBuckets(10, 2, 12),
		}, []string{"connection", "status"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rows_synced_total",
			Help: "Rows written to the destination by ended jobs, per stream.",
		}, []string{"connection", "stream"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "bytes_synced_total",
			Help: "Parquet bytes written to the destination by ended jobs, per stream.",
		}, []string{"connection", "stream"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "last_success_timestamp_seconds",
			Help: "Unix time at which the connection's last succeeded job ended; alert when it grows old.",
		}, []string{"connection"}),
	}
}

func (j *Jobs) collectors() []prometheus.Collector {
	return []prometheus.Collector{j.total, j.duration, j.rows, j.bytes, j.lastSuccess}
}

// Observe records an ended job. Its signature fits jobs.Options.OnJobEnd.
func (j *Jobs) Observe(res *syncer.Result, _ error) {
	if res == nil {
		return
	}
	j.total.WithLabelValues(res.Connection, res.Status).Inc()
	j.duration.WithLabelValues(res.Connection, res.Status).Observe(res.Duration)
	for _, s := range res.Streams {
		j.rows.WithLabelValues(res.Connection, s.Name).Add(float64(s.Rows))
		j.bytes.WithLabelValues(res.Connection, s.Name).Add(float64(s.Bytes))
	}
	if res.Status == string(state.JobSucceeded) {
		j.lastSuccess.WithLabelValues(res.Connection).Set(float64(res.EndedAt.Unix()))
	}
}

// LoadLastSuccess sets the last-success gauge of each connection from the
// state store, so that after a restart the gauge says when the data was
// last good rather than nothing.
func (j *Jobs) LoadLastSuccess(ctx context.Context, st *state.Store, connections []string) error {
	for _, c := range connections {
		job, err := st.LastJob(ctx, c, state.JobSucceeded)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load last success of %s: %w", c, err)
		}
		at := job.UpdatedAt
		if job.EndedAt != nil {
			at = *job.EndedAt
		}
		j.lastSuccess.WithLabelValues(c).Set(float64(at.Unix()))
	}
	return nil
}
