package main

import (
	"context"
	"errors"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// Exit codes. Scripts and Airflow's BashOperator branch on them.
const (
	exitOK          = 0
	exitFailed      = 1 // the job failed for another reason
	exitConfig      = 2 // configuration or usage error: nothing was attempted
	exitSource      = 3 // MySQL side: connect, discover, read
	exitDestination = 4 // destination side: bucket, credentials, upload
	exitBusy        = 5 // another job of the connection is running
	exitCancelled   = 130
)

// exitError carries an explicit exit code; printed says the message was
// already shown to the user (e.g. in the JSON result).
type exitError struct {
	code    int
	err     error
	printed bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.code != 0 {
		return ee.code
	}
	var cfgErr *config.Error
	var busy *state.AlreadyRunningError
	var srcErr *failure.SourceError
	var dstErr *failure.DestinationError
	switch {
	case errors.Is(err, context.Canceled):
		return exitCancelled
	case errors.As(err, &cfgErr), errors.Is(err, config.ErrUnknownConnection):
		return exitConfig
	case errors.As(err, &busy):
		return exitBusy
	case errors.As(err, &srcErr):
		return exitSource
	case errors.As(err, &dstErr):
		return exitDestination
	}
	return exitFailed
}
