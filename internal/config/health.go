package config

import "time"

// HealthSettings tune the health checks of `acode health` and the serve loop
// (acode.yaml section "health"). The defaults are the seed's matrix.
type HealthSettings struct {
	Interval          time.Duration // interval: how often `acode serve` runs every check
	ConnectTimeout    time.Duration // connect_timeout: mysql_connectivity gives up after this long
	QueryTimeout      time.Duration // query_timeout: data_freshness and replication_lag queries give up after this long
	FreshnessTable    string        // freshness_table: table whose newest row says how fresh the source is
	FreshnessColumn   string        // freshness_column: DATE or DATETIME column of that table
	FreshnessTimeZone string        // freshness_time_zone: IANA zone the source writes that column in
	FreshnessWarning  time.Duration // freshness_warning: data older than this is a warning
	FreshnessCritical time.Duration // freshness_critical: ...and older than this is critical (the freshness SLA)
	LagWarning        time.Duration // replication_lag_warning: backup replica behind by more is a warning
	LagCritical       time.Duration // replication_lag_critical: ...by more is critical, and the backup is not used
	SyncWarning       time.Duration // last_sync_warning: last successful sync or upload older than this is a warning
	SyncCritical      time.Duration // last_sync_critical: ...older than this is critical
	HistoryRetention  time.Duration // history_retention: health results older than this are pruned from the state store
}

func defaultHealthSettings() HealthSettings {
	return HealthSettings{
		Interval:          5 * time.Minute,
		ConnectTimeout:    30 * time.Second,
		QueryTimeout:      30 * time.Second,
		FreshnessTable:    "farmarcas_si_analitico_diario",
		FreshnessColumn:   "Data_Processamento",
		FreshnessTimeZone: "UTC",
		FreshnessWarning:  12 * time.Hour,
		FreshnessCritical: 24 * time.Hour,
		LagWarning:        5 * time.Minute,
		LagCritical:       10 * time.Minute,
		SyncWarning:       24 * time.Hour, // the seed's freshness SLA: a daily sync is due
		SyncCritical:      26 * time.Hour, // ...plus the seed's 2 h sync SLA: the night's run did not land
		HistoryRetention:  30 * 24 * time.Hour,
	}
}

// Location is FreshnessTimeZone loaded; decode has validated it.
func (s HealthSettings) Location() *time.Location {
	loc, err := time.LoadLocation(s.FreshnessTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func (s *HealthSettings) decode(m *mapNode, _ func(string) string) {
	m.duration("interval", &s.Interval)
	m.duration("connect_timeout", &s.ConnectTimeout)
	m.duration("query_timeout", &s.QueryTimeout)
	m.str("freshness_table", &s.FreshnessTable)
	m.str("freshness_column", &s.FreshnessColumn)
	if m.str("freshness_time_zone", &s.FreshnessTimeZone) {
		if _, err := time.LoadLocation(s.FreshnessTimeZone); err != nil || s.FreshnessTimeZone == "" {
			m.errorf("freshness_time_zone", "must be an IANA time zone such as UTC or America/Sao_Paulo, got %q", s.FreshnessTimeZone)
		}
	}
	m.duration("freshness_warning", &s.FreshnessWarning)
	m.duration("freshness_critical", &s.FreshnessCritical)
	m.duration("replication_lag_warning", &s.LagWarning)
	m.duration("replication_lag_critical", &s.LagCritical)
	m.duration("last_sync_warning", &s.SyncWarning)
	m.duration("last_sync_critical", &s.SyncCritical)
	m.duration("history_retention", &s.HistoryRetention)
	for _, p := range []struct {
		warnKey, critKey string
		warn, crit       time.Duration
	}{
		{"freshness_warning", "freshness_critical", s.FreshnessWarning, s.FreshnessCritical},
		{"replication_lag_warning", "replication_lag_critical", s.LagWarning, s.LagCritical},
		{"last_sync_warning", "last_sync_critical", s.SyncWarning, s.SyncCritical},
	} {
		if p.warn > p.crit {
			m.errorf(p.warnKey, "must not be larger than %s (%s > %s)", p.critKey, p.warn, p.crit)
		}
	}
}
