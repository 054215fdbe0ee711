package state

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateJob_SecondJobForSameConnectionIsAlreadyRunning(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		first, err := s.CreateJob(ctx, "conn_a", "primary", "host1:100")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateJob(ctx, "conn_a", "primary", "host2:200")
		var busy *AlreadyRunningError
		if !errors.As(err, &busy) {
			t.Fatalf("second CreateJob: err = %v, want *AlreadyRunningError", err)
		}
		if busy.JobID != first.ID || busy.Owner != "host1:100" || busy.Connection != "conn_a" {
			t.Errorf("AlreadyRunningError = %+v, want job %d owner host1:100", busy, first.ID)
		}
		for _, want := range []string{"conn_a", "host1:100", "already"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		// Another connection is independent.
		if _, err := s.CreateJob(ctx, "conn_b", "primary", "host2:200"); err != nil {
			t.Errorf("CreateJob on another connection: %v", err)
		}
		// Once the first ends, the connection is free again.
		if err := s.FinishJob(ctx, first.ID, JobSucceeded, "", 10, 100); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateJob(ctx, "conn_a", "primary", "host2:200"); err != nil {
			t.Errorf("CreateJob after the first job ended: %v", err)
		}
	})
}

func TestCreateJob_StaleHeartbeatFailsOldJobAndProceeds(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now), WithLease(time.Minute))
		old := mustJob(t, s, "conn")
		att, err := s.StartAttempt(ctx, old.ID)
		if err != nil {
			t.Fatal(err)
		}

		// Heartbeats keep it alive past one lease.
		clock.Advance(50 * time.Second)
		if err := s.Heartbeat(ctx, old.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(50 * time.Second)
		var busy *AlreadyRunningError
		if _, err := s.CreateJob(ctx, "conn", "primary", "other:2"); !errors.As(err, &busy) {
			t.Fatalf("CreateJob with a fresh heartbeat: err = %v, want *AlreadyRunningError", err)
		}

		// Then the owner dies: no heartbeat for more than a lease.
		clock.Advance(61 * time.Second)
		fresh, err := s.CreateJob(ctx, "conn", "backup", "other:2")
		if err != nil {
			t.Fatalf("CreateJob after stale heartbeat: %v", err)
		}
		if fresh.ID == old.ID || fresh.Status != JobPending || fresh.Source != "backup" {
			t.Errorf("new job = %+v", fresh)
		}
		got, err := s.Job(ctx, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != JobFailed || got.EndedAt == nil {
			t.Errorf("old job status = %s ended %v, want failed with an end time", got.Status, got.EndedAt)
		}
		if want := "abandoned: owner test-host:1 stopped heartbeating or exited"; got.Error != want {
			t.Errorf("old job error = %q, want %q", got.Error, want)
		}
		atts, err := s.Attempts(ctx, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 1 || atts[0].Number != att.Number || atts[0].Status != AttemptFailed || atts[0].EndedAt == nil {
			t.Errorf("old job attempts = %+v, want attempt 1 failed", atts)
		}

		// The dead owner, if it was only stalled, learns it lost the job.
		if err := s.Heartbeat(ctx, old.ID); !errors.Is(err, ErrJobEnded) {
			t.Errorf("Heartbeat on abandoned job: err = %v, want ErrJobEnded", err)
		}
		if err := s.SetJobStatus(ctx, old.ID, JobSucceeded, ""); !errors.Is(err, ErrJobEnded) {
			t.Errorf("SetJobStatus on abandoned job: err = %v, want ErrJobEnded", err)
		}
		if err := s.FinishAttempt(ctx, old.ID, att.Number, AttemptSucceeded, ""); !errors.Is(err, ErrJobEnded) {
			t.Errorf("FinishAttempt on abandoned attempt: err = %v, want ErrJobEnded", err)
		}
	})
}

func TestJobLifecycle_StatusTimesAndTotals(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now))
		j := mustJob(t, s, "conn")
		if j.StartedAt != nil || j.EndedAt != nil {
			t.Errorf("pending job has start/end times: %+v", j)
		}
		clock.Advance(time.Second)
		if err := s.SetJobStatus(ctx, j.ID, JobRunning, ""); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		if err := s.AddJobTotals(ctx, j.ID, 5, 50); err != nil {
			t.Fatal(err)
		}
		if err := s.AddJobTotals(ctx, j.ID, 7, 70); err != nil {
			t.Fatal(err)
		}
		mid, err := s.Job(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if mid.Rows != 12 || mid.Bytes != 120 {
			t.Errorf("running totals = %d rows %d bytes, want 12, 120", mid.Rows, mid.Bytes)
		}
		clock.Advance(time.Second)
		if err := s.FinishJob(ctx, j.ID, JobFailed, "source: connection refused", 12, 120); err != nil {
			t.Fatal(err)
		}
		got, err := s.Job(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		start := truncate(clock.Now().Add(-2 * time.Second))
		end := truncate(clock.Now())
		if got.Status != JobFailed || got.Error != "source: connection refused" {
			t.Errorf("job = %s %q", got.Status, got.Error)
		}
		if got.StartedAt == nil || !got.StartedAt.Equal(start) {
			t.Errorf("StartedAt = %v, want %v", got.StartedAt, start)
		}
		if got.EndedAt == nil || !got.EndedAt.Equal(end) || !got.UpdatedAt.Equal(end) {
			t.Errorf("EndedAt = %v UpdatedAt = %v, want %v", got.EndedAt, got.UpdatedAt, end)
		}
		if err := s.FinishJob(ctx, j.ID, JobRunning, "", 0, 0); err == nil {
			t.Error("FinishJob accepted a non-terminal status")
		}
		if err := s.SetJobStatus(ctx, 9999, JobCancelled, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetJobStatus on missing job: err = %v, want ErrNotFound", err)
		}
		if err := s.SetJobStatus(ctx, j.ID, "exploded", ""); err == nil {
			t.Error("SetJobStatus accepted an unknown status")
		}
	})
}

func TestJobs_TimesAreStoredAndReturnedInUTC(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock() // clock runs in UTC-3
		s := bk.open(t, WithClock(clock.Now))
		created := mustJob(t, s, "conn")
		got, err := s.Job(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := clock.Now().UTC().Truncate(time.Microsecond)
		for name, ts := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt, "HeartbeatAt": got.HeartbeatAt, "returned CreatedAt": created.CreatedAt} {
			if ts.Location() != time.UTC {
				t.Errorf("%s location = %v, want UTC", name, ts.Location())
			}
			if !ts.Equal(want) {
				t.Errorf("%s = %v, want %v", name, ts, want)
			}
		}
		var raw string
		if err := s.db.QueryRowContext(ctx, `SELECT created_at FROM jobs WHERE id = ?`, created.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if raw != "2025-08-07T06:04:05.123456Z" {
			t.Errorf("stored created_at = %q, want UTC text 2025-08-07T06:04:05.123456Z", raw)
		}
	})
}

func TestListJobs_NewestFirstWithFilters(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		var ids []int64
		for i, conn := range []string{"a", "b", "a", "a"} {
			j := mustJob(t, s, conn)
			ids = append(ids, j.ID)
			status := JobSucceeded
			if i == 2 {
				status = JobFailed
			}
			if err := s.FinishJob(ctx, j.ID, status, "", 0, 0); err != nil {
				t.Fatal(err)
			}
		}
		live := mustJob(t, s, "b")

		cases := []struct {
			name string
			f    JobFilter
			want []int64
		}{
			{"all", JobFilter{}, []int64{live.ID, ids[3], ids[2], ids[1], ids[0]}},
			{"connection", JobFilter{Connection: "a"}, []int64{ids[3], ids[2], ids[0]}},
			{"status", JobFilter{Status: JobSucceeded}, []int64{ids[3], ids[1], ids[0]}},
			{"both", JobFilter{Connection: "a", Status: JobFailed}, []int64{ids[2]}},
			{"limit", JobFilter{Limit: 2}, []int64{live.ID, ids[3]}},
			{"none", JobFilter{Connection: "zzz"}, nil},
		}
		for _, tc := range cases {
			jobs, err := s.ListJobs(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var got []int64
			for _, j := range jobs {
				got = append(got, j.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: ListJobs = %v, want %v", tc.name, got, tc.want)
			}
		}

		last, err := s.LastJob(ctx, "a", JobSucceeded)
		if err != nil || last.ID != ids[3] {
			t.Errorf("LastJob(a, succeeded) = %d, %v; want %d", last.ID, err, ids[3])
		}
		last, err = s.LastJob(ctx, "b", "")
		if err != nil || last.ID != live.ID {
			t.Errorf("LastJob(b, any) = %d, %v; want %d", last.ID, err, live.ID)
		}
		if _, err := s.LastJob(ctx, "b", JobCancelled); !errors.Is(err, ErrNotFound) {
			t.Errorf("LastJob with no match: err = %v, want ErrNotFound", err)
		}
		if _, err := s.Job(ctx, 424242); !errors.Is(err, ErrNotFound) {
			t.Errorf("Job(missing): err = %v, want ErrNotFound", err)
		}
	})
}

func TestReapAbandoned_FailsOnlyJobsPastTheLease(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		s := bk.open(t, WithClock(clock.Now), WithLease(time.Minute))
		dead := mustJob(t, s, "dead")
		if _, err := s.StartAttempt(ctx, dead.ID); err != nil {
			t.Fatal(err)
		}
		alive := mustJob(t, s, "alive")
		done := mustJob(t, s, "done")
		if err := s.FinishJob(ctx, done.ID, JobSucceeded, "", 0, 0); err != nil {
			t.Fatal(err)
		}
		clock.Advance(90 * time.Second)
		if err := s.Heartbeat(ctx, alive.ID); err != nil {
			t.Fatal(err)
		}
		reaped, err := s.ReapAbandoned(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(reaped) != 1 || reaped[0].ID != dead.ID || reaped[0].Status != JobFailed {
			t.Fatalf("reaped = %+v, want only job %d, failed", reaped, dead.ID)
		}
		for id, want := range map[int64]JobStatus{dead.ID: JobFailed, alive.ID: JobPending, done.ID: JobSucceeded} {
			j, err := s.Job(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != want {
				t.Errorf("job %d (%s) status = %s, want %s", id, j.Connection, j.Status, want)
			}
		}
		atts, err := s.Attempts(ctx, dead.ID)
		if err != nil || len(atts) != 1 || atts[0].Status != AttemptFailed {
			t.Errorf("dead job attempts = %+v, %v; want its attempt failed", atts, err)
		}
		if again, err := s.ReapAbandoned(ctx); err != nil || len(again) != 0 {
			t.Errorf("second reap = %+v, %v; want nothing", again, err)
		}
	})
}
