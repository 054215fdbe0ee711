package failover

import (
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
)

// State is where a pair stands.
type State string

const (
	PrimaryActive State = "primary_active" // syncs read the primary
	BackupActive  State = "backup_active"  // syncs read the backup replica
	Halted        State = "halted"         // nothing is synced until a person decides
)

// Strategy is what a failure class leads to (config.Strategy*).
type Strategy string

const (
	UseBackup    Strategy = config.StrategyUseBackup
	RetryPrimary Strategy = config.StrategyRetryPrimary
	Manual       Strategy = config.StrategyManual
	Restore      Strategy = config.StrategyRestore
)

// Policy is the failover policy of acode.yaml's failover section.
type Policy struct {
	// Automatic lets the machine switch by itself; when false only
	// Failover and Failback switch, and failures only raise alerts.
	Automatic bool
	// ConsecutiveFailures is the least number of consecutive failures of
	// the primary before a retried class uses the backup, or a class that
	// needs a person (other than schema_change) halts.
	ConsecutiveFailures int
	// Backoff are the waits before each retry of the primary; the backup
	// is used once every retry has failed.
	Backoff []time.Duration
	// Jitter is the most random extra wait added to each retry.
	Jitter time.Duration
	// FailbackAfter is how many consecutive healthy checks of the primary
	// bring an automatic failover back to the primary.
	FailbackAfter int
	// Strategies maps each failure class to its strategy.
	Strategies map[failure.Class]Strategy
}

// PolicyFrom builds the policy from acode.yaml's settings.
func PolicyFrom(s config.FailoverSettings) Policy {
	p := Policy{Automatic: s.Automatic, ConsecutiveFailures: s.ConsecutiveFailures, Backoff: s.Backoff,
		Jitter: s.BackoffJitter, FailbackAfter: s.FailbackAfter, Strategies: map[failure.Class]Strategy{}}
	for class, strategy := range s.Strategies {
		p.Strategies[failure.Class(class)] = Strategy(strategy)
	}
	return p
}

// DefaultPolicy is the seed's policy.
func DefaultPolicy() Policy { return PolicyFrom(config.DefaultSettings("").Failover) }

// strategy is the class's strategy; a class without one needs a person.
func (p Policy) strategy(c failure.Class) Strategy {
	if s, ok := p.Strategies[c]; ok {
		return s
	}
	return Manual
}

// failuresBeforeBackup is when a retried class gives up on the primary:
// after every backoff wait has been followed by another failure, and at
// least ConsecutiveFailures failures.
func (p Policy) failuresBeforeBackup() int { return max(p.ConsecutiveFailures, len(p.Backoff)+1) }

// Pair is a primary connection and the connection reading its backup
// replica, with the sources behind them (health results name sources).
type Pair struct {
	Primary, Backup             string // connection resource names; Primary names the pair
	PrimarySource, BackupSource string // source resource names
}

// PairsFrom returns the project's failover pairs.
func PairsFrom(p *config.Project) ([]Pair, error) {
	cps, err := p.FailoverPairs()
	if err != nil {
		return nil, err
	}
	out := make([]Pair, 0, len(cps))
	for _, cp := range cps {
		pc, bc := p.Connections[cp.Primary], p.Connections[cp.Backup]
		if pc.Source == nil || bc.Source == nil {
			return nil, fmt.Errorf("failover pair %s/%s: connection without a source", cp.Primary, cp.Backup)
		}
		out = append(out, Pair{Primary: cp.Primary, Backup: cp.Backup,
			PrimarySource: pc.Source.ResourceName, BackupSource: bc.Source.ResourceName})
	}
	return out, nil
}
