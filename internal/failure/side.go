package failure

import (
	"errors"
	"fmt"
)

// SourceError marks a failure on the MySQL side (connect, discover, read).
// The CLI maps it to its own exit code and the failover policy counts it
// against the source it read.
type SourceError struct {
	Stream string // empty when the failure is not about one stream
	Err    error
}

func (e *SourceError) Error() string { return sideMessage("source", e.Stream, e.Err) }

func (e *SourceError) Unwrap() error { return e.Err }

// DestinationError marks a failure writing to the destination store: the
// source is fine, so the failover policy does not count it.
type DestinationError struct {
	Stream string
	Err    error
}

func (e *DestinationError) Error() string { return sideMessage("destination", e.Stream, e.Err) }

func (e *DestinationError) Unwrap() error { return e.Err }

func sideMessage(side, stream string, err error) string {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	if stream == "" {
		return side + ": " + msg
	}
	return fmt.Sprintf("%s: stream %s: %s", side, stream, msg)
}

// Source marks err as a failure on the source side of stream, unless it
// already is one (nil stays nil).
func Source(stream string, err error) error {
	var se *SourceError
	if err == nil || errors.As(err, &se) {
		return err
	}
	return &SourceError{Stream: stream, Err: err}
}

// Destination marks err as a failure on the destination side of stream,
// unless it already is one (nil stays nil).
func Destination(stream string, err error) error {
	var de *DestinationError
	if err == nil || errors.As(err, &de) {
		return err
	}
	return &DestinationError{Stream: stream, Err: err}
}

// OnSource reports whether err happened on the source side: a
// *SourceError, or a schema or data problem of what the source holds. A
// job cut at its maximum duration is on neither side, even when the cut
// interrupted a read.
func OnSource(err error) bool {
	c := Classify(err)
	if c == ClassMaxDuration {
		return false
	}
	var se *SourceError
	if errors.As(err, &se) {
		return true
	}
	return c == ClassSchemaChange || c == ClassDataCorruption
}
