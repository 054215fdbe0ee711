package syncer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

func TestSync_RetryHookDecidesEachRetryAndReplacesTheDelay(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 10)
	f := newFixture(t, m, database, nil)
	f.Env["ACODE_PASS"] = "wrong-password"
	p := f.project(t)

	for _, tt := range []struct {
		name      string
		answers   []bool
		wantCalls int
	}{
		{"stop after the first failure", []bool{false}, 1},
		{"retry twice", []bool{true, true}, 2},
	} {
		var calls []int
		start := time.Now()
		res, err := runWith(context.Background(), t, p, "connection_mysql_local_acode", Options{
			MaxAttempts: 3, RetryDelay: time.Hour,
			Retry: func(_ context.Context, attempt int, err error) bool {
				var se *failure.SourceError
				if !errors.As(err, &se) {
					t.Errorf("%s: hook got %v, want the attempt's *failure.SourceError", tt.name, err)
				}
				calls = append(calls, attempt)
				return tt.answers[len(calls)-1]
			},
		})
		if err == nil || res == nil || res.Status != "failed" {
			t.Fatalf("%s: job with a wrong password: %+v, %v", tt.name, res, err)
		}
		wantAttempts := len(tt.answers)
		if tt.answers[len(tt.answers)-1] {
			wantAttempts++
		}
		if len(calls) != tt.wantCalls || res.Attempts != wantAttempts {
			t.Errorf("%s: hook calls %v, attempts %d; want %d calls, %d attempts", tt.name, calls, res.Attempts, tt.wantCalls, wantAttempts)
		}
		if time.Since(start) > 30*time.Second {
			t.Errorf("%s: took %s: RetryDelay slept although the hook decides", tt.name, time.Since(start))
		}
	}
}
