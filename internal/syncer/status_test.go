package syncer

import (
	"context"
	"database/sql/driver"
	"fmt"
	"testing"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

func TestJobStatus(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, stop := context.WithTimeout(context.Background(), 0)
	defer stop()
	<-expired.Done()
	badConn := fmt.Errorf("read range: %w", driver.ErrBadConn)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want state.JobStatus
	}{
		{"no error", live, nil, state.JobSucceeded},
		{"a failure", live, badConn, state.JobFailed},
		{"cancelled, the read saw the closed connection", cancelled, badConn, state.JobCancelled},
		{"cancelled, the read saw the context", cancelled, fmt.Errorf("read: %w", context.Canceled), state.JobCancelled},
		{"ended by another process", live, fmt.Errorf("%w: ended", failure.ErrCancelled), state.JobCancelled},
		{"the maximum duration", expired, fmt.Errorf("read: %w", context.DeadlineExceeded), state.JobFailed},
		{"the maximum duration, closed connection", expired, badConn, state.JobFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jobStatus(tc.ctx, tc.err); got != tc.want {
				t.Errorf("jobStatus(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}
