package state

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound is returned when a job, cursor, commit or plan does not exist.
	ErrNotFound = errors.New("not found")

	// ErrJobEnded is returned when a caller tries to heartbeat, attempt or
	// change a job that has already reached a terminal status. A runner that
	// gets it from Heartbeat must stop: the job was cancelled, or another
	// process declared it abandoned and may already be running a new one.
	ErrJobEnded = errors.New("job already ended")

	// ErrSchemaTooNew is returned by Open when the file was migrated by a
	// newer acode than this one; running old code on it could corrupt it.
	ErrSchemaTooNew = errors.New("state store schema is newer than this acode")
)

// AlreadyRunningError is returned by CreateJob when the connection already
// has a live job (pending, running or incomplete, with a fresh heartbeat).
// It names the job and the process holding it so the user can find it.
type AlreadyRunningError struct {
	Connection  string
	JobID       int64
	Status      JobStatus
	Owner       string    // host:pid of the process running the job
	Since       time.Time // when the job was created
	HeartbeatAt time.Time // the owner's last sign of life
}

func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("connection %q already has job %d %s (owner %s, since %s, last heartbeat %s); wait for it to end or cancel it",
		e.Connection, e.JobID, e.Status, e.Owner,
		e.Since.Format(time.RFC3339), e.HeartbeatAt.Format(time.RFC3339))
}
