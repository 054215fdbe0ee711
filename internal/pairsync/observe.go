package pairsync

import (
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
)

// PairHealth picks what the failover rules read out of a round of health
// results: mysql_connectivity of the pair's two sources and replication_lag
// of its backup. Other results are left out.
func PairHealth(p failover.Pair, results []health.Result) failover.Health {
	find := func(check, target string) *failover.Probe {
		for i := range results {
			if r := &results[i]; r.Check == check && r.Target == target {
				return probe(r)
			}
		}
		return nil
	}
	return failover.Health{
		Primary:     find(health.CheckConnectivity, p.PrimarySource),
		Backup:      find(health.CheckConnectivity, p.BackupSource),
		Replication: find(health.CheckReplicationLag, p.BackupSource),
	}
}

func probe(r *health.Result) *failover.Probe {
	out := &failover.Probe{Status: r.Status, Class: r.Class, Message: r.Message}
	if r.Err != nil {
		out.Class = failure.Classify(r.Err)
	}
	if rs := r.Replica; rs != nil {
		out.Replica = &failover.Replica{Running: rs.Running(), Connecting: rs.Connecting(), SecondsBehind: rs.SecondsBehind}
	}
	return out
}
