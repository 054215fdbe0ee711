package metrics

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/state"
)

// Status exports what the state store says about health and failover,
// read at each scrape: the numbers are right after a restart, and whoever
// wrote them (the serve loop, `acode health`, `acode failover` in another
// process) is seen at once. A scrape costs a handful of indexed queries.
type Status struct {
	store   *state.Store
	pairs   []failover.Pair
	log     *slog.Logger
	now     func() time.Time
	timeout time.Duration

	checkStatus, checkTime, sourceUp       *prometheus.Desc
	activeSource, failoverState, lag       *prometheus.Desc
	failovers, failures, running, readable *prometheus.Desc
	quality, lastSuccessAge                *prometheus.Desc

	streams map[string][]string // connection -> streams, for ages and quality scores
	policy  *failover.Policy    // set: active_source follows the machine's current decision
}

// WithPolicy makes acode_active_source say what a sync started now would
// read, by the pairs' failover policy: both 0 while the state names a
// source but the machine syncs nothing (both unavailable, primary in
// backoff). Without it the gauge follows the stored state alone.
func (s *Status) WithPolicy(p failover.Policy) *Status {
	s.policy = &p
	return s
}

// qualityJobs is how many of a connection's newest jobs are searched for a
// stream's newest quality report.
const qualityJobs = 5

// WithConnections exports, for each connection, the age of its last
// successful sync (acode_last_success_age_seconds: DataDog has no time()
// to subtract a timestamp from) and acode_quality_score of these streams,
// from the newest quality report among its last jobs.
func (s *Status) WithConnections(streams map[string][]string) *Status {
	s.streams = streams
	return s
}

// NewStatus returns the collector of the store's health and failover
// state for pairs. Register it with Registry.MustRegister.
func NewStatus(store *state.Store, pairs []failover.Pair, log *slog.Logger) *Status {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	return &Status{store: store, pairs: pairs, log: log, now: time.Now, timeout: 5 * time.Second,
		checkStatus: d("health_check_status", "Newest result of each health check: 0 ok, 1 warning, 2 critical.", "check", "target"),
		checkTime:   d("health_check_timestamp_seconds", "Unix time of each health check's newest result; alert when it stops moving.", "check", "target"),
		sourceUp: d("source_available", "1 when the source's newest mysql_connectivity check was not critical, per pair and role.",
			"pair", "role", "source"),
		activeSource: d("active_source", "1 for the source a pair's syncs read now, 0 for the other; both 0 while nothing syncs (halted, both unavailable).",
			"pair", "role", "source"),
		failoverState: d("failover_state", "1 for the pair's failover state (primary_active, backup_active, halted).", "pair", "state"),
		lag: d("replication_lag_seconds", "The backup replica's Seconds_Behind_Master as last measured while the primary was up.",
			"pair", "source"),
		failovers: d("failovers_total", "Switches of the pair to its backup, automatic and manual, since the state store was created.", "pair"),
		failures:  d("consecutive_failures", "Consecutive failures of the pair's primary (checks and syncs); 0 when healthy.", "pair"),
		running:   d("running_job_seconds", "How long the connection's running job has run; alert past the seed's 3 h.", "connection"),
		readable:  d("state_readable", "1 when this scrape could read the state store; 0 means the status metrics are missing."),
		quality: d("quality_score", "Data-quality score (0 to 1) of the stream's newest quality report; below quality.score_threshold fails validation.",
			"connection", "stream"),
		lastSuccessAge: d("last_success_age_seconds", "Seconds since the connection's last successful sync ended; the bronze copy is this old.",
			"connection"),
	}
}

// Describe sends the descriptors.
func (s *Status) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.checkStatus, s.checkTime, s.sourceUp, s.activeSource, s.failoverState,
		s.lag, s.failovers, s.failures, s.running, s.readable, s.quality, s.lastSuccessAge} {
		ch <- d
	}
}

// Collect reads the store. An error leaves the other metrics served and
// sets acode_state_readable to 0.
func (s *Status) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err := s.collect(ctx, ch)
	ok := 1.0
	if err != nil {
		s.log.Warn("metrics: read the state store", "err", err)
		ok = 0
	}
	ch <- prometheus.MustNewConstMetric(s.readable, prometheus.GaugeValue, ok)
}

func (s *Status) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	recs, err := s.store.LatestHealth(ctx)
	if err != nil {
		return err
	}
	up := map[string]float64{} // source -> availability
	for _, r := range recs {
		ch <- prometheus.MustNewConstMetric(s.checkStatus, prometheus.GaugeValue, statusValue(r.Status), r.Check, r.Target)
		ch <- prometheus.MustNewConstMetric(s.checkTime, prometheus.GaugeValue, float64(r.Time.Unix()), r.Check, r.Target)
		if r.Check == health.CheckConnectivity {
			up[r.Target] = 1
			if failure.Severity(r.Status) == failure.Critical {
				up[r.Target] = 0
			}
		}
	}
	trs, err := s.store.TransitionsSince(ctx, time.Time{})
	if err != nil {
		return err
	}
	switches := map[string]int{}
	for _, t := range trs {
		if t.To == string(failover.BackupActive) {
			switches[t.Pair]++
		}
	}
	for _, p := range s.pairs {
		if err := s.collectPair(ctx, ch, p, up, switches[p.Primary]); err != nil {
			return err
		}
	}
	running, err := s.store.ListJobs(ctx, state.JobFilter{Status: state.JobRunning})
	if err != nil {
		return err
	}
	now := s.now()
	for _, j := range running {
		start := j.CreatedAt
		if j.StartedAt != nil {
			start = *j.StartedAt
		}
		ch <- prometheus.MustNewConstMetric(s.running, prometheus.GaugeValue, now.Sub(start).Seconds(), j.Connection)
	}
	return s.collectQuality(ctx, ch)
}

func (s *Status) collectQuality(ctx context.Context, ch chan<- prometheus.Metric) error {
	now := s.now()
	for conn, streams := range s.streams {
		last, err := s.store.LastJob(ctx, conn, state.JobSucceeded)
		switch {
		case err == nil:
			end := last.UpdatedAt
			if last.EndedAt != nil {
				end = *last.EndedAt
			}
			ch <- prometheus.MustNewConstMetric(s.lastSuccessAge, prometheus.GaugeValue, now.Sub(end).Seconds(), conn)
		case !errors.Is(err, state.ErrNotFound):
			return err
		}
		jobs, err := s.store.ListJobs(ctx, state.JobFilter{Connection: conn, Limit: qualityJobs})
		if err != nil {
			return err
		}
		for _, stream := range streams {
			for _, j := range jobs {
				r, err := s.store.QualityReport(ctx, j.ID, stream)
				if errors.Is(err, state.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				ch <- prometheus.MustNewConstMetric(s.quality, prometheus.GaugeValue, r.Score, conn, stream)
				break
			}
		}
	}
	return nil
}

func (s *Status) collectPair(ctx context.Context, ch chan<- prometheus.Metric, p failover.Pair, up map[string]float64, switches int) error {
	pol := failover.DefaultPolicy()
	if s.policy != nil {
		pol = *s.policy
	}
	ps, err := failover.New(s.store, p, pol).Status(ctx, failover.StatusOptions{})
	if err != nil {
		return err
	}
	st := ps.State
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	primary, backup := 0.0, 0.0
	switch failover.State(st.State) {
	case failover.PrimaryActive:
		primary = 1
	case failover.BackupActive:
		backup = 1
	}
	if s.policy != nil && ps.Decision.Sync == "" {
		primary, backup = 0, 0
	}
	gauge(s.activeSource, primary, p.Primary, "primary", p.PrimarySource)
	gauge(s.activeSource, backup, p.Primary, "backup", p.BackupSource)
	for _, fs := range []failover.State{failover.PrimaryActive, failover.BackupActive, failover.Halted} {
		v := 0.0
		if st.State == string(fs) {
			v = 1
		}
		gauge(s.failoverState, v, p.Primary, string(fs))
	}
	for role, src := range map[string]string{"primary": p.PrimarySource, "backup": p.BackupSource} {
		if v, ok := up[src]; ok {
			gauge(s.sourceUp, v, p.Primary, role, src)
		}
	}
	if st.BackupLagSeconds != nil {
		gauge(s.lag, float64(*st.BackupLagSeconds), p.Primary, p.BackupSource)
	}
	ch <- prometheus.MustNewConstMetric(s.failovers, prometheus.CounterValue, float64(switches), p.Primary)
	gauge(s.failures, float64(st.Failures), p.Primary)
	return nil
}

func statusValue(s string) float64 {
	switch failure.Severity(s) {
	case failure.OK:
		return 0
	case failure.Warning:
		return 1
	}
	return 2
}
