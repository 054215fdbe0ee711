package state

import (
	"context"
	"errors"
	"testing"
)

func TestAttempts_NumberedFromOneAndRetriesAreNewAttempts(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j := mustJob(t, s, "conn")

		a1, err := s.StartAttempt(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a1.Number != 1 || a1.Status != AttemptRunning {
			t.Fatalf("first attempt = %+v", a1)
		}
		running, err := s.Job(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if running.Status != JobRunning || running.StartedAt == nil {
			t.Errorf("job after StartAttempt = %s started %v, want running with a start time", running.Status, running.StartedAt)
		}
		if err := s.FinishAttempt(ctx, j.ID, 1, AttemptFailed, "s3: SlowDown"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetJobStatus(ctx, j.ID, JobIncomplete, "s3: SlowDown"); err != nil {
			t.Fatal(err)
		}

		a2, err := s.StartAttempt(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		// An attempt left running (its runner vanished) is superseded by the next.
		a3, err := s.StartAttempt(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a2.Number != 2 || a3.Number != 3 {
			t.Errorf("attempt numbers = %d, %d; want 2, 3", a2.Number, a3.Number)
		}
		if err := s.FinishAttempt(ctx, j.ID, 3, AttemptSucceeded, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishJob(ctx, j.ID, JobSucceeded, "", 1, 1); err != nil {
			t.Fatal(err)
		}

		atts, err := s.Attempts(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			n      int
			status AttemptStatus
			err    string
		}{{1, AttemptFailed, "s3: SlowDown"}, {2, AttemptFailed, "superseded by attempt 3"}, {3, AttemptSucceeded, ""}}
		if len(atts) != len(want) {
			t.Fatalf("attempts = %+v, want %d", atts, len(want))
		}
		for i, w := range want {
			a := atts[i]
			if a.Number != w.n || a.Status != w.status || a.Error != w.err || a.EndedAt == nil || a.JobID != j.ID {
				t.Errorf("attempt %d = %+v, want number %d %s %q ended", i, a, w.n, w.status, w.err)
			}
		}

		if _, err := s.StartAttempt(ctx, j.ID); !errors.Is(err, ErrJobEnded) {
			t.Errorf("StartAttempt on a finished job: err = %v, want ErrJobEnded", err)
		}
		if _, err := s.StartAttempt(ctx, 777); !errors.Is(err, ErrNotFound) {
			t.Errorf("StartAttempt on a missing job: err = %v, want ErrNotFound", err)
		}
		if err := s.FinishAttempt(ctx, j.ID, 9, AttemptFailed, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("FinishAttempt on a missing attempt: err = %v, want ErrNotFound", err)
		}
		if err := s.FinishAttempt(ctx, j.ID, 3, AttemptRunning, ""); err == nil {
			t.Error("FinishAttempt accepted status running")
		}
	})
}
