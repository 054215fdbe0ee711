package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestJobDead_OnlyEndedStaleOrOwnerlessJobs(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	st, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	live, _ := st.CreateJob(ctx, "a", "primary", DefaultOwner()) // this process: alive
	gone, _ := st.CreateJob(ctx, "b", "primary", mustHost(t)+":999999999")
	ended, _ := st.CreateJob(ctx, "c", "primary", DefaultOwner())
	if err := st.FinishJob(ctx, ended.ID, JobFailed, "x", 0, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		id   int64
		want bool
	}{{"live", live.ID, false}, {"owner gone", gone.ID, true}, {"ended", ended.ID, true}, {"unknown", 999, true}} {
		if dead, err := st.JobDead(ctx, tc.id); err != nil || dead != tc.want {
			t.Errorf("%s: dead = %v (%v), want %v", tc.name, dead, err, tc.want)
		}
	}
	now = now.Add(DefaultLease)
	if dead, _ := st.JobDead(ctx, live.ID); !dead {
		t.Error("a job past its lease is not dead")
	}
}

func mustHost(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
