package parquet

import (
	"errors"
	"fmt"
)

// Sentinel errors, classified by callers with errors.Is.
var (
	// ErrUnsupportedCodec is returned for a compression codec name the writer
	// cannot produce (e.g. LZO); a config check should reject it up front.
	ErrUnsupportedCodec = errors.New("unsupported parquet compression codec")
	// ErrUnsupportedType is returned by NewSchema for a MySQL type the
	// mapping does not know (one a future server adds); it names the column.
	ErrUnsupportedType = errors.New("unsupported column type")
	// ErrUnknownMode is returned for a Mode other than "exact" or "airbyte".
	ErrUnknownMode = errors.New("unknown parquet mode")
	// ErrRowWidth is returned when a row does not have one value per column:
	// the reader and the schema disagree, which is a bug or a schema change.
	ErrRowWidth = errors.New("row has the wrong number of values")
	// ErrClosed is returned by Write after Close.
	ErrClosed = errors.New("parquet writer closed")
)

// maxValueInError bounds how much of an offending value an error carries, so a
// huge BLOB cannot flood a log line.
const maxValueInError = 64

// ValueError reports a value the encoder could not convert to its column's
// Parquet type. It names the column so the user can find the row in MySQL.
type ValueError struct {
	Column string
	Value  string // the text as received, truncated to 64 bytes
	Err    error
}

func newValueError(column string, value []byte, err error) *ValueError {
	v := value
	if len(v) > maxValueInError {
		v = v[:maxValueInError]
	}
	return &ValueError{Column: column, Value: string(v), Err: err}
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("column %s: value %q: %v", e.Column, e.Value, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }
