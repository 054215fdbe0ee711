package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Recovery strategies, named as the seed's acode_auto_recovery DAG names
// its branches.
const (
	StrategyUseBackup    = "use_backup_immediately"       // switch to the backup now
	StrategyRetryPrimary = "retry_primary_with_delay"     // retry the primary with backoff, then the backup
	StrategyManual       = "manual_intervention_required" // stop syncing and ask a person
	StrategyRestore      = "full_backup_restore"          // quarantine the bad partition, re-sync it from the backup
)

// FailureClasses are the failure classes a strategy can be set for, as the
// seed's DAG names failure_type.
var FailureClasses = []string{"authentication_failed", "primary_db_down", "connection_timeout",
	"network_partition", "schema_change", "data_corruption", "unknown"}

// FailoverSettings are the failover policy (acode.yaml section "failover").
// The defaults are the seed's: 3 consecutive failures, backoff 5, 10, 20
// minutes plus up to 60 s of jitter, the DAG's strategy per failure class,
// and failback after 3 healthy checks of the primary.
type FailoverSettings struct {
	Automatic           bool              // automatic: false = switch only by `acode failover` / `acode failback`
	Pairs               []FailoverPair    // pairs: which connection backs up which; nil = inferred (see Project.FailoverPairs)
	ConsecutiveFailures int               // consecutive_failures: failures of a retried class before the backup is used
	Backoff             []time.Duration   // backoff: waits before each retry of the primary
	BackoffJitter       time.Duration     // backoff_jitter: up to this much random extra wait per retry
	FailbackAfter       int               // failback_after_checks: consecutive healthy checks of the primary before failback
	Strategies          map[string]string // strategies: failure class -> Strategy*
}

// FailoverPair names a primary connection and the connection that reads the
// same tables from its backup replica.
type FailoverPair struct {
	Primary string // primary: connection resource_name
	Backup  string // backup: connection resource_name
	line    int
}

func defaultFailoverSettings() FailoverSettings {
	return FailoverSettings{
		Automatic:           true,
		ConsecutiveFailures: 3,
		Backoff:             []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute},
		BackoffJitter:       60 * time.Second,
		FailbackAfter:       3,
		Strategies: map[string]string{
			"authentication_failed": StrategyUseBackup,
			"primary_db_down":       StrategyUseBackup,
			"connection_timeout":    StrategyRetryPrimary,
			"network_partition":     StrategyRetryPrimary,
			"schema_change":         StrategyManual,
			"data_corruption":       StrategyRestore,
			"unknown":               StrategyManual,
		},
	}
}

func (s *FailoverSettings) decode(m *mapNode, _ func(string) string) {
	m.boolean("automatic", &s.Automatic)
	m.integer("consecutive_failures", &s.ConsecutiveFailures, 1, 100)
	m.nonNegativeDuration("backoff_jitter", &s.BackoffJitter)
	m.integer("failback_after_checks", &s.FailbackAfter, 1, 100)
	if items := m.seq("backoff"); items != nil || m.has("backoff") {
		s.Backoff = decodeDurations(m, "backoff", items)
	}
	if items := m.seq("pairs"); items != nil {
		s.Pairs = decodePairs(m, items)
	}
	if st := m.child("strategies"); st != nil {
		strategies := make(map[string]string, len(s.Strategies))
		for k, v := range s.Strategies {
			strategies[k] = v
		}
		for _, class := range FailureClasses {
			v := strategies[class]
			st.enum(class, &v, StrategyUseBackup, StrategyRetryPrimary, StrategyManual, StrategyRestore)
			strategies[class] = v
		}
		st.finish()
		s.Strategies = strategies
	}
}

func decodeDurations(m *mapNode, key string, items []*yaml.Node) []time.Duration {
	out := []time.Duration{}
	for i, it := range items {
		d, err := time.ParseDuration(strings.TrimSpace(it.Value))
		if it.Kind != yaml.ScalarNode || err != nil || d <= 0 {
			m.f.errorAt(it, indexPath(m.key(key), i), "must be a positive duration such as 5m, got %q", it.Value)
			continue
		}
		out = append(out, d)
	}
	return out
}

func decodePairs(m *mapNode, items []*yaml.Node) []FailoverPair {
	out := []FailoverPair{} // "pairs: []" means no pairs, not "infer them"
	for i, it := range items {
		path := indexPath(m.key("pairs"), i)
		if it.Kind != yaml.MappingNode {
			m.f.errorAt(it, path, "must be a mapping with primary and backup, not a %s", kindName(it))
			continue
		}
		pm := m.f.newMap(it, path, it.Line)
		p := FailoverPair{line: it.Line}
		pm.required("primary", &p.Primary)
		pm.required("backup", &p.Backup)
		pm.finish()
		out = append(out, p)
	}
	return out
}

// FailoverPairs returns the primary/backup connection pairs. Without
// failover.pairs in acode.yaml, every connection X for which a connection
// X_backup exists is paired with it (the seed's naming:
// connection_mysql_s3_acode and connection_mysql_s3_acode_backup). Pairs
// from the file must name existing, distinct connections, each in one pair
// only; a violation is an *Error located in acode.yaml.
func (p *Project) FailoverPairs() ([]FailoverPair, error) {
	s := p.Settings.Failover
	if s.Pairs == nil {
		var out []FailoverPair
		for _, name := range p.ConnectionNames() {
			if _, ok := p.Connections[name+"_backup"]; ok {
				out = append(out, FailoverPair{Primary: name, Backup: name + "_backup"})
			}
		}
		return out, nil
	}
	used := map[string]int{}
	for i, pair := range s.Pairs {
		key := fmt.Sprintf("failover.pairs[%d]", i)
		fail := func(format string, args ...any) error {
			return &Error{File: filepath.Base(SettingsFile), Line: pair.line, Key: key, Msg: fmt.Sprintf(format, args...)}
		}
		if pair.Primary == pair.Backup {
			return nil, fail("primary and backup are the same connection %q", pair.Primary)
		}
		for _, name := range []string{pair.Primary, pair.Backup} {
			if _, ok := p.Connections[name]; !ok {
				return nil, fail("unknown connection %q (known: %s)", name, strings.Join(p.ConnectionNames(), ", "))
			}
			if prev, dup := used[name]; dup {
				return nil, fail("connection %q is already in failover.pairs[%d]", name, prev)
			}
			used[name] = i
		}
	}
	return s.Pairs, nil
}
