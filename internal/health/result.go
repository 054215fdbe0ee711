// Package health runs the checks the seed's health matrix lists
// (mysql_connectivity, data_freshness, replication_lag, last_sync,
// destination_uploads, connection_status) and keeps their history in the
// state store. It observes; package failover decides what to do about it.
package health

import (
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// Names of the checks.
const (
	CheckConnectivity     = "mysql_connectivity"
	CheckFreshness        = "data_freshness"
	CheckReplicationLag   = "replication_lag"
	CheckLastSync         = "last_sync"
	CheckUploads          = "destination_uploads"
	CheckConnectionStatus = "connection_status"
)

// Result is one check of one target.
type Result struct {
	Check     string           `json:"check"`
	Target    string           `json:"target"`    // a source, connection or destination resource_name
	Status    failure.Severity `json:"status"`    // ok, warning or critical
	Value     string           `json:"value"`     // what was measured, e.g. "13h0m0s", "Connecting"
	Threshold string           `json:"threshold"` // what it was compared with
	Message   string           `json:"message"`
	Time      time.Time        `json:"time"`
	// Class is the failure class of Err, for people reading the output.
	Class failure.Class `json:"class,omitempty"`
	// Replica is the replica's status, on replication_lag results.
	Replica *ReplicaStatus `json:"replica,omitempty"`
	// Err is the failure behind a non-ok connectivity or replication
	// result, kept typed so that failover can classify it.
	Err error `json:"-"`
}

// Worst returns the most severe status of results (ok when empty).
func Worst(results []Result) failure.Severity {
	w := failure.OK
	for _, r := range results {
		if r.Status.Worse(w) {
			w = r.Status
		}
	}
	return w
}

// Record converts r to its history row.
func (r Result) Record() state.HealthRecord {
	return state.HealthRecord{Check: r.Check, Target: r.Target, Status: string(r.Status), Value: r.Value,
		Threshold: r.Threshold, Message: r.Message, Time: r.Time}
}

// thresholds renders a warning/critical pair.
func thresholds(warn, crit time.Duration) string {
	return fmt.Sprintf("warning > %s, critical > %s", warn, crit)
}

// grade compares a measured age or lag with its thresholds.
func grade(v, warn, crit time.Duration) failure.Severity {
	switch {
	case v > crit:
		return failure.Critical
	case v > warn:
		return failure.Warning
	}
	return failure.OK
}
