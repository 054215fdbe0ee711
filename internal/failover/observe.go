package failover

import "github.com/acode-dev/acode/internal/failure"

// Health is one round of health checks on a pair, in the terms the rules
// read: the connectivity of each source and the backup's replication. A
// nil probe was not checked this round. The orchestrator builds it from
// the health package's results, so that this package decides without
// depending on how the checks are run.
type Health struct {
	Primary, Backup *Probe // mysql_connectivity of each source
	Replication     *Probe // replication_lag of the backup
}

// Probe is one check's verdict on a source.
type Probe struct {
	Status  failure.Severity // failure.Critical: the check failed
	Class   failure.Class    // what failed, when the check failed
	Message string
	// Replica is how the backup's replication threads run, on the
	// replication probe; nil when the check could not say.
	Replica *Replica
}

// Replica is what the backup's replication status says.
type Replica struct {
	Running       bool   // both threads run
	Connecting    bool   // the IO thread is reconnecting while the SQL thread applies
	SecondsBehind *int64 // nil when unknown
}

func (p *Probe) critical() bool { return p != nil && p.Status == failure.Critical }
