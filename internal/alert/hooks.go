package alert

import (
	"context"
	"errors"
	"fmt"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
)

// The hooks below turn what the rest of `acode serve` observes (jobs
// ending, health checks, failover transitions) into conditions. Each may be
// called on every observation: the Manager notifies on changes only.

// SyncOutcome is how a sync job ended, as jobs.Options.OnJobEnd sees it.
type SyncOutcome struct {
	Connection string
	JobID      int64
	Status     string // succeeded, failed or cancelled
	Error      string
	Attempts   int
	Source     string // primary or backup
}

// SyncEnded raises sync_failing/<connection> when a job failed and clears
// it when one succeeded; a cancelled job changes nothing (a person or a
// shutdown stopped it). Failing syncs page after SyncFailingEscalation.
func (m *Manager) SyncEnded(ctx context.Context, o SyncOutcome) error {
	key := Key(KindSyncFailing, o.Connection)
	metrics := map[string]any{"job_id": o.JobID, "attempts": o.Attempts, "status": o.Status}
	if o.Source != "" {
		metrics["source"] = o.Source
	}
	switch o.Status {
	case "failed":
		msg := fmt.Sprintf("Job %d of %s failed after %d attempt(s)", o.JobID, o.Connection, o.Attempts)
		if o.Error != "" {
			msg += ": " + o.Error
		}
		return m.Raise(ctx, key, failure.Critical, Details{
			Title:   "Sync failing: " + o.Connection,
			Message: msg,
			System:  "ACODE Sync " + o.Connection,
			Action:  "Check the job's error (acode jobs) and the health checks; acode fails over to the backup per policy. The next scheduled or Airflow run retries.",
			Metrics: metrics,
		})
	case "succeeded":
		return m.Clear(ctx, key, Details{
			Title:   "Sync failing: " + o.Connection,
			Message: fmt.Sprintf("✅ Job %d of %s succeeded; syncs are flowing again.", o.JobID, o.Connection),
			System:  "ACODE Sync " + o.Connection,
			Action:  "Check that the partitions missed while it failed were re-synced (acode reconcile).",
			Metrics: metrics,
		})
	}
	return nil
}

// QueueSyncEnded is SyncEnded for jobs.Options.OnJobEnd, which must not
// block: it queues o for the loop started by Start. With the queue full
// the outcome is dropped and logged (the next job's outcome corrects it).
func (m *Manager) QueueSyncEnded(o SyncOutcome) {
	select {
	case m.queue <- o:
	default:
		m.log.Warn("alert queue full: job outcome not evaluated", "connection", o.Connection, "job_id", o.JobID)
	}
}

// HealthResults hands one health round to the alerts: each result is a
// CheckResult, its value, threshold and failure class the condition's
// metrics. The health loop calls it after every round.
func (m *Manager) HealthResults(ctx context.Context, results []health.Result) error {
	var errs []error
	for _, r := range results {
		metrics := map[string]any{}
		if r.Value != "" {
			metrics["value"] = r.Value
		}
		if r.Threshold != "" {
			metrics["threshold"] = r.Threshold
		}
		if r.Class != "" {
			metrics["failure_class"] = r.Class
		}
		errs = append(errs, m.CheckResult(ctx, r.Check, r.Target, r.Status, r.Message, metrics))
	}
	return errors.Join(errs...)
}

// CheckResult reports the latest status of a health check on a target:
// "ok" clears check/<check>/<target>, "warning" and "critical" raise it.
// Critical checks page after CriticalEscalation.
func (m *Manager) CheckResult(ctx context.Context, check, target string, status failure.Severity, message string, metrics map[string]any) error {
	key := Key(KindCheck, check, target)
	title := fmt.Sprintf("Health check %s on %s", check, target)
	switch status {
	case failure.OK:
		return m.Clear(ctx, key, Details{Title: title, Message: "✅ " + check + " is ok again: " + message, Metrics: metrics})
	case failure.Warning, failure.Critical:
		return m.Raise(ctx, key, status, Details{
			Title: title, Message: message, System: "ACODE Health " + target,
			Action:  "See the status page; `acode health` runs every check now.",
			Metrics: metrics,
		})
	}
	return fmt.Errorf("check %s on %s: unknown status %q", check, target, status)
}

// Failover states, as package failover names them.
const (
	StatePrimaryActive = "primary_active"
	StateBackupActive  = "backup_active"
	StateHalted        = "halted"
)

// FailoverChanged reports a transition of a primary/backup pair. Backup
// active raises primary_unavailable/<pair> (critical, as the seed's
// "Critical: Sistema primary indisponível"); halted raises
// sources_unavailable/<pair>, which pages at once (no source is synced);
// back to primary_active clears both with the seed's recovery message.
func (m *Manager) FailoverChanged(ctx context.Context, pair, from, to, reason string, metrics map[string]any) error {
	if metrics == nil {
		metrics = map[string]any{}
	}
	metrics["from"] = from
	return m.pairState(ctx, pair, to, reason, false, metrics)
}

// pairState holds the conditions that follow from a pair's state. both
// says the machine reports both sources unavailable, which keeps
// sources_unavailable raised whatever the state.
func (m *Manager) pairState(ctx context.Context, pair, to, reason string, both bool, metrics map[string]any) error {
	primary, sources := Key(KindPrimaryDown, pair), Key(KindSourcesDown, pair)
	if metrics == nil {
		metrics = map[string]any{}
	}
	metrics["state"] = to
	var errs []error
	switch to {
	case StateBackupActive:
		errs = append(errs, m.Raise(ctx, primary, failure.Critical, Details{
			Title:   "Primary unavailable: " + pair,
			Message: "Primary ACODE connection failed: " + reason + ". Backup system is being activated.",
			System:  "ACODE Primary Pipeline",
			Action:  "🚨 Backup sync triggered automatically. Monitor backup connection status and replication lag.",
			Metrics: metrics,
		}))
	case StateHalted:
		both = true
		errs = append(errs, m.Raise(ctx, sources, failure.Critical, Details{
			Title:   "Syncs halted: " + pair,
			Message: "No source of " + pair + " is being synced: " + reason + ".",
			System:  "ACODE Redundancy System",
			Action:  "Manual intervention required: restore a source, then `acode failback` or `acode failover`, and `acode reconcile` the missed days.",
			Metrics: metrics,
		}))
	case StatePrimaryActive:
		errs = append(errs, m.Clear(ctx, primary, Details{
			Message: "✅ ACODE primary connection recovered successfully. Switching back from backup.",
			System:  "ACODE Recovery System",
			Action:  "Monitor primary connection stability over next 24h",
			Metrics: metrics,
		}))
	default:
		return fmt.Errorf("failover of %s: unknown state %q", pair, to)
	}
	if !both {
		errs = append(errs, m.Clear(ctx, sources, Details{
			Message: "✅ " + pair + " is being synced again (" + to + ").",
			System:  "ACODE Recovery System",
			Action:  "Reconcile the days missed while nothing was synced (acode reconcile).",
			Metrics: metrics,
		}))
	}
	return errors.Join(errs...)
}
