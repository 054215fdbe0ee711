package state

import (
	"context"
	"testing"
	"time"
)

// A chain's run is live while the replica that opened it is seen and has
// not closed it; a silent replica's run counts as ended, and a close by a
// replica that no longer drives the run changes nothing.
func TestRunLive_FollowsTheReplicaThatDrivesTheRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		clock := newFakeClock()
		st := bk.open(t, WithClock(clock.Now))
		j := mustJob(t, st, "conn")
		live := func() bool {
			t.Helper()
			ok, err := st.RunLive(ctx, j.ID, 15*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if live() {
			t.Error("a job no run opened reads live")
		}
		if err := st.SeeReplica(ctx, "hostA:1", "a:1"); err != nil {
			t.Fatal(err)
		}
		if err := st.OpenRun(ctx, j.ID, "hostA:1"); err != nil {
			t.Fatal(err)
		}
		if !live() {
			t.Error("the run of a replica seen now reads ended")
		}
		clock.Advance(20 * time.Second)
		if live() {
			t.Error("the run of a replica silent for 20 s reads live")
		}
		if err := st.SeeReplica(ctx, "hostB:2", "b:2"); err != nil {
			t.Fatal(err)
		}
		if err := st.OpenRun(ctx, j.ID, "hostB:2"); err != nil { // B took the chain over
			t.Fatal(err)
		}
		if err := st.CloseRun(ctx, j.ID, "hostA:1"); err != nil {
			t.Fatal(err)
		}
		if !live() {
			t.Error("the stale replica's close ended the run another replica drives")
		}
		if err := st.CloseRun(ctx, j.ID, "hostB:2"); err != nil {
			t.Fatal(err)
		}
		if live() {
			t.Error("a closed run reads live")
		}
	})
}
