package failover

// AlertKind is what an Alert of a Decision is about. The alert conditions
// (package alert) are keyed by it; it is a type so that no one takes it
// apart from Alert.Key.
type AlertKind string

// The alerts a pair's machine raises.
const (
	AlertPrimaryFailing          AlertKind = "primary_failing"            // failing, automatic failover off
	AlertPrimaryRetry            AlertKind = "primary_retry"              // failing, retried before failover
	AlertPrimaryRecovered        AlertKind = "primary_recovered"          // answers again
	AlertFailover                AlertKind = "failover"                   // switched to the backup
	AlertFailback                AlertKind = "failback"                   // back on the primary
	AlertHalted                  AlertKind = "halted"                     // nothing syncs until a person decides
	AlertRestore                 AlertKind = "restore"                    // a partition to quarantine and sync again
	AlertBothUnavailable         AlertKind = "both_unavailable"           // neither side can be read
	AlertBackupForced            AlertKind = "backup_forced"              // the backup used by hand although unfit
	AlertBackupSyncFailed        AlertKind = "backup_sync_failed"         // the backup's own job failed
	AlertSyncFailedOutsideSource AlertKind = "sync_failed_outside_source" // failed for a reason failover cannot fix
)
