package config

import "time"

// Where a CDC reader takes the binlog from (cdc.read_from).
const (
	CDCReadBackup  = "backup"  // the failover pair's backup replica, sparing the primary
	CDCReadPrimary = "primary" // the connection's own source
)

// CDCSettings tune the binlog readers of connections whose source has
// replication_method CDC (acode.yaml section "cdc").
type CDCSettings struct {
	// FlushInterval (flush_interval): a stream's open change-log file is
	// committed at the first transaction boundary after this long.
	FlushInterval time.Duration
	// FlushMB (flush_mb): ... or once its encoded size passes this.
	FlushMB int
	// ReadFrom (read_from): backup or primary. backup reads the pair's
	// backup source when the connection is in a failover pair, the
	// connection's own source otherwise.
	ReadFrom string
	// ServerID (server_id): the replication server id the reader registers
	// with; it must differ from every server's and every other reader's.
	ServerID int
	// Heartbeat (heartbeat): the server sends a heartbeat this often when
	// the binlog is idle; ReadTimeout (read_timeout) past it without any
	// packet means the connection is dead and is reopened.
	Heartbeat   time.Duration
	ReadTimeout time.Duration
	// RetryMax (retry_max): the longest pause between reconnects.
	RetryMax time.Duration
	// SwitchAfter (switch_after): failed connections in a row to the server
	// read before the reader continues on the failover pair's other server.
	SwitchAfter int
	// SpillMB (spill_mb): a transaction holding more row images than this
	// is written to the open change-log files as it is read, instead of
	// waiting whole in memory.
	SpillMB int
	// Backfill (backfill): a stream without a checkpoint first lands its
	// table's current rows by primary-key ranges, each with its snapshot's
	// binlog position; false starts it at the server's position now.
	Backfill bool
	// LagAlert (lag_alert): acode serve raises cdc_lag/<connection> when a
	// reader's last commit held a transaction committed on MySQL longer
	// ago than this.
	LagAlert time.Duration
	// Compact (compact): acode serve's leader compacts every CDC stream's
	// change log into the day's snapshot once a day, after midnight UTC.
	Compact bool
	// RetentionAlertFiles (retention_alert_files): acode serve raises
	// cdc_binlog_retention/<connection> when the server read holds fewer
	// binlog files than this before the one a reader's checkpoint needs
	// (the active file never counts: it is not purged).
	RetentionAlertFiles int
	// CompactKeysPerPass (compact_keys_per_pass): the primary keys a
	// compaction holds in memory at once (about 100 bytes each); a bigger
	// table is merged in more passes over its files.
	CompactKeysPerPass int
}

func defaultCDCSettings() CDCSettings {
	return CDCSettings{
		FlushInterval: time.Minute,
		FlushMB:       128,
		ReadFrom:      CDCReadBackup,
		ServerID:      4_200_001,
		Heartbeat:     10 * time.Second,
		ReadTimeout:   30 * time.Second,
		RetryMax:      30 * time.Second,
		Backfill:      true,
		SwitchAfter:   3,
		SpillMB:       8,
		LagAlert:      5 * time.Minute,
		Compact:       true,

		RetentionAlertFiles: 1,
		CompactKeysPerPass:  4_000_000,
	}
}

func (s *CDCSettings) decode(m *mapNode, _ func(string) string) {
	m.duration("flush_interval", &s.FlushInterval)
	m.integer("flush_mb", &s.FlushMB, 1, 1<<16)
	m.enum("read_from", &s.ReadFrom, CDCReadBackup, CDCReadPrimary)
	m.integer("server_id", &s.ServerID, 1, 1<<32-1)
	m.duration("heartbeat", &s.Heartbeat)
	m.duration("read_timeout", &s.ReadTimeout)
	m.duration("retry_max", &s.RetryMax)
	m.boolean("backfill", &s.Backfill)
	m.integer("switch_after", &s.SwitchAfter, 1, 1000)
	m.integer("spill_mb", &s.SpillMB, 1, 1<<16)
	m.duration("lag_alert", &s.LagAlert)
	m.boolean("compact", &s.Compact)
	m.integer("retention_alert_files", &s.RetentionAlertFiles, 1, 1000)
	m.integer("compact_keys_per_pass", &s.CompactKeysPerPass, 1000, 1<<31-1)
	if s.LagAlert < time.Second && !m.wasBad("lag_alert") {
		m.errorf("lag_alert", "must be at least 1s")
	}
	if s.FlushInterval < time.Second && !m.wasBad("flush_interval") {
		m.errorf("flush_interval", "must be at least 1s")
	}
	if s.Heartbeat < time.Second && !m.wasBad("heartbeat") {
		m.errorf("heartbeat", "must be at least 1s")
	}
	if s.ReadTimeout <= s.Heartbeat && !m.wasBad("read_timeout") {
		m.errorf("read_timeout", "must be longer than heartbeat (%s), or an idle binlog looks dead", s.Heartbeat)
	}
}
