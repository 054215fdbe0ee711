package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A job whose owner stopped heartbeating is claimed once, keeps its id and
// parts, and the stalled owner can record no part or commit, heartbeat or
// start an attempt any more; the new owner can.
func TestClaimAbandoned_FencesTheStalledOwner(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		st := bk.open(t, WithClock(func() time.Time { return now }), WithLease(40*time.Second))
		j, err := st.CreateJob(ctx, "conn", "primary", "hostA:1")
		if err != nil {
			t.Fatal(err)
		}
		old, err := st.StartAttemptAs(ctx, j.ID, "hostA:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RecordPart(ctx, Part{JobID: j.ID, Stream: "s", Key: "k1", Ranges: []int{0}, Attempt: old.Number}); err != nil {
			t.Fatal(err)
		}
		all := func(Job) bool { return true }
		if got, err := st.ClaimAbandoned(ctx, "hostB:2", all); err != nil || len(got) != 0 {
			t.Fatalf("claimed a live job: %v %v", got, err)
		}
		now = now.Add(41 * time.Second)
		got, err := st.ClaimAbandoned(ctx, "hostB:2", all)
		if err != nil || len(got) != 1 || got[0].ID != j.ID || got[0].Owner != "hostB:2" {
			t.Fatalf("claim: %+v %v, want job %d for hostB:2", got, err, j.ID)
		}
		if again, _ := st.ClaimAbandoned(ctx, "hostC:3", all); len(again) != 0 {
			t.Errorf("a claimed job was claimed again: %+v", again)
		}
		// The stalled owner wakes.
		if err := st.RecordPart(ctx, Part{JobID: j.ID, Stream: "s", Key: "k2", Ranges: []int{1}, Attempt: old.Number}); !errors.Is(err, ErrLostJob) {
			t.Errorf("part record by the superseded attempt: %v, want ErrLostJob", err)
		}
		if err := st.RecordCommit(ctx, Commit{Connection: "conn", Stream: "s", Partition: "p", JobID: j.ID, Status: CommitCommitted, Attempt: old.Number}); !errors.Is(err, ErrLostJob) {
			t.Errorf("commit by the superseded attempt: %v, want ErrLostJob", err)
		}
		if err := st.HeartbeatAs(ctx, j.ID, "hostA:1"); !errors.Is(err, ErrLostJob) {
			t.Errorf("heartbeat of the old owner: %v, want ErrLostJob", err)
		}
		if _, err := st.StartAttemptAs(ctx, j.ID, "hostA:1"); !errors.Is(err, ErrLostJob) {
			t.Errorf("new attempt by the old owner: %v, want ErrLostJob", err)
		}
		// The new owner resumes under the same id, with the part kept.
		att, err := st.StartAttemptAs(ctx, j.ID, "hostB:2")
		if err != nil || att.Number != old.Number+1 {
			t.Fatalf("attempt of the new owner: %+v %v", att, err)
		}
		if ps, _ := st.Parts(ctx, j.ID, "s"); len(ps) != 1 || ps[0].Key != "k1" {
			t.Errorf("parts after the takeover: %+v, want k1 only", ps)
		}
		if err := st.RecordCommit(ctx, Commit{Connection: "conn", Stream: "s", Partition: "p", JobID: j.ID, Status: CommitCommitted, Attempt: att.Number}); err != nil {
			t.Errorf("commit by the new owner: %v", err)
		}
		// A cancel recorded elsewhere ends the job: nothing more commits.
		if err := st.FinishJob(ctx, j.ID, JobCancelled, "cancelled through another replica", -1, -1); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordCommit(ctx, Commit{Connection: "conn", Stream: "s2", Partition: "p", JobID: j.ID, Status: CommitCommitted, Attempt: att.Number}); !errors.Is(err, ErrJobEnded) {
			t.Errorf("commit of a cancelled job: %v, want ErrJobEnded", err)
		}
	})
}
