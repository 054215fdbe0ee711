package failover

import (
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

// What the status page and metrics show: Current agrees with the last
// step's decision, names no source while both are unavailable although
// the state is still primary_active, and changes nothing.
func TestMachine_CurrentIsTheDecisionWithoutAStep(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cur := func(what string, st State, sync string) Decision {
		t.Helper()
		d, err := f.m.Current(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantDecision(t, what, d, st, sync)
		return d
	}
	cur("before any step", PrimaryActive, "conn")
	f.health(healthy...)
	cur("healthy", PrimaryActive, "conn")

	f.clock.Advance(time.Minute)
	f.health(down("src", refused), down("src_backup", refused))
	d := cur("both down", PrimaryActive, "")
	if !hasAlert(d, "both_unavailable", failure.Critical) {
		t.Errorf("both down: %+v", d)
	}

	// The backup answers again and the step fails over; Current reports
	// the backup without a transition of its own.
	f.health(down("src", refused), up("src_backup"), replica("Yes", "Yes", lag(0), failure.OK))
	f.clock.Advance(time.Minute)
	st, trs, err := f.m.State(f.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	d = cur("after the failover", BackupActive, "conn_backup")
	if d.Transition != nil || len(trs) != 1 {
		t.Errorf("Current made or reported a transition: %+v, %d transitions", d.Transition, len(trs))
	}
	after, trs2, _ := f.m.State(f.ctx, 10)
	if after.UpdatedAt != st.UpdatedAt || len(trs2) != len(trs) {
		t.Errorf("Current changed the stored state: %+v -> %+v", st, after)
	}
}
