package syncer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/quality"
)

// StreamsError is an attempt in which some streams failed. Streams are
// independent: the others committed (or were quarantined) on their own.
// errors.Is and errors.As see every stream's error.
type StreamsError struct {
	Failed []string // the failed streams, in the connection's order
	Of     int      // the streams of the connection
	Errs   []error  // Errs[i] is why Failed[i] failed
}

func (e *StreamsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d streams failed (%s)", len(e.Failed), e.Of, strings.Join(e.Failed, ", "))
	for i, err := range e.Errs {
		b.WriteString("; ")
		if !namesStream(err, e.Failed[i]) {
			b.WriteString("stream " + e.Failed[i] + ": ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *StreamsError) Unwrap() []error { return e.Errs }

// namesStream reports whether err's message already names stream.
func namesStream(err error, stream string) bool {
	var se *failure.SourceError
	var de *failure.DestinationError
	return errors.As(err, &se) && se.Stream == stream || errors.As(err, &de) && de.Stream == stream
}

// retryable says whether another attempt may end otherwise: not when every
// failed stream failed its quality gate (the same rows fail it again), nor
// when the job was cancelled.
func retryable(err error) bool {
	var se *StreamsError
	if !errors.As(err, &se) {
		return !errors.Is(err, quality.ErrValidationFailed)
	}
	for _, e := range se.Errs {
		if !errors.Is(e, quality.ErrValidationFailed) {
			return true
		}
	}
	return false
}
