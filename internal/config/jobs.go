package config

import (
	"fmt"
	"time"
)

// JobPolicy is how a sync job that fails or runs too long is handled: the
// seed's DAG retries once after 15 minutes, and no sync may run longer than
// 3 hours (its "Maximum Sync Duration").
type JobPolicy struct {
	Retries     int           // retries: a failed job is retried this many times (each retry resumes the ranges already uploaded)
	RetryDelay  time.Duration // retry_delay: pause before each retry
	MaxDuration time.Duration // max_duration: a job running longer is cancelled and counted as failed
}

// JobSettings are acode.yaml's "jobs" section: the job policy of failover
// pairs' syncs (`acode sync --source ...`, and the jobs `acode serve` runs
// for a pair), with optional overrides per connection, and whether a
// backup sync's partitions are promoted into the primary's layout.
type JobSettings struct {
	JobPolicy
	// PromoteBackup (promote_backup): after a backup sync commits, its
	// partitions are copied into the primary connection's layout (manifest
	// status "promoted", source role backup), so readers of the bronze
	// prefix see fresh data without changing anything.
	PromoteBackup bool
	// StateRetention (state_retention): the range tasks, parts and range
	// plans of a job that ended this long ago are deleted from the state
	// store by acode serve's leader (hourly); only a live job's attempts
	// and range workers read them. The job's history stays.
	StateRetention time.Duration
	// Connections (connections): per connection resource_name, the policy
	// fields it overrides.
	Connections map[string]JobPolicy
}

func defaultJobSettings() JobSettings {
	return JobSettings{
		JobPolicy:      JobPolicy{Retries: 1, RetryDelay: 15 * time.Minute, MaxDuration: 3 * time.Hour},
		PromoteBackup:  true,
		StateRetention: 7 * 24 * time.Hour,
	}
}

// Policy returns the job policy of connection: the section's, with the
// connection's overrides applied.
func (s JobSettings) Policy(connection string) JobPolicy {
	if p, ok := s.Connections[connection]; ok {
		return p
	}
	return s.JobPolicy
}

func (s *JobSettings) decode(m *mapNode, _ func(string) string) {
	s.JobPolicy.decode(m)
	m.boolean("promote_backup", &s.PromoteBackup)
	m.duration("state_retention", &s.StateRetention)
	conns := m.child("connections")
	if conns == nil {
		return
	}
	s.Connections = map[string]JobPolicy{}
	for i := 0; i+1 < len(conns.node.Content); i += 2 {
		name := conns.node.Content[i].Value
		c := conns.child(name)
		if c == nil {
			continue
		}
		p := s.JobPolicy // unset keys keep the section's values
		p.decode(c)
		c.finish()
		s.Connections[name] = p
	}
	conns.finish()
}

func (p *JobPolicy) decode(m *mapNode) {
	m.integer("retries", &p.Retries, 0, 100)
	m.nonNegativeDuration("retry_delay", &p.RetryDelay)
	m.duration("max_duration", &p.MaxDuration)
}

// JobPolicy returns the job policy of connection. Overrides in
// jobs.connections must name connections of the project: a misspelt name
// is an error here rather than a policy silently not applied.
func (p *Project) JobPolicy(connection string) (JobPolicy, error) {
	for name := range p.Settings.Jobs.Connections {
		if _, ok := p.Connections[name]; !ok {
			return JobPolicy{}, &Error{File: SettingsFile, Key: "jobs.connections." + name,
				Msg: fmt.Sprintf("no connection has resource_name %q", name)}
		}
	}
	return p.Settings.Jobs.Policy(connection), nil
}
