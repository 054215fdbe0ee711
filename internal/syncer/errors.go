package syncer

import (
	"errors"
	"fmt"
)

// SourceError marks a failure on the MySQL side (connect, discover, read).
// The CLI maps it to its own exit code and the failover policy classifies
// the error it wraps.
type SourceError struct {
	Stream string // empty when the failure is not about one stream
	Err    error
}

func (e *SourceError) Error() string {
	msg := "unknown error"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Stream == "" {
		return "source: " + msg
	}
	return fmt.Sprintf("source: stream %s: %s", e.Stream, msg)
}

func (e *SourceError) Unwrap() error { return e.Err }

// DestinationError marks a failure writing to the destination store.
type DestinationError struct {
	Stream string
	Err    error
}

func (e *DestinationError) Error() string {
	msg := "unknown error"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Stream == "" {
		return "destination: " + msg
	}
	return fmt.Sprintf("destination: stream %s: %s", e.Stream, msg)
}

func (e *DestinationError) Unwrap() error { return e.Err }

// ErrCancelled is returned when the job's context was cancelled.
var ErrCancelled = errors.New("job cancelled")

func sourceErr(stream string, err error) error {
	if err == nil {
		return nil
	}
	var se *SourceError
	if errors.As(err, &se) {
		return err
	}
	return &SourceError{Stream: stream, Err: err}
}

func destErr(stream string, err error) error {
	if err == nil {
		return nil
	}
	var de *DestinationError
	if errors.As(err, &de) {
		return err
	}
	return &DestinationError{Stream: stream, Err: err}
}
