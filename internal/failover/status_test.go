package failover

import (
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/state"
)

// The one read of a pair that `acode status`, the status page and
// /metrics share: after a failover it names the backup, carries the
// transition, the jobs of both connections (not of others) and the checks
// about the pair's sources and connections (not about others), and
// changes nothing.
func TestMachine_StatusIsOneReadOfThePair(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.health(healthy...)
	f.clock.Advance(time.Minute)
	f.health(down("src", refused), up("src_backup"), replica("Yes", "Yes", lag(0), failure.OK))
	for _, c := range []string{"conn", "conn_backup", "other"} {
		if _, err := f.store.CreateJob(f.ctx, c, "primary", "test"); err != nil {
			t.Fatal(err)
		}
	}
	latest := []state.HealthRecord{
		{Check: health.CheckConnectivity, Target: "src", Status: "critical"},
		{Check: health.CheckConnectivity, Target: "src_backup", Status: "ok"},
		{Check: "last_sync", Target: "conn_backup", Status: "ok"},
		{Check: health.CheckConnectivity, Target: "other_src", Status: "ok"},
	}
	before, _, err := f.m.State(f.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}

	s, err := f.m.Status(f.ctx, StatusOptions{Transitions: 5, Jobs: 3, Health: latest})
	if err != nil {
		t.Fatal(err)
	}
	wantDecision(t, "status after the failover", s.Decision, BackupActive, "conn_backup")
	if s.State.State != string(BackupActive) || s.Pair != testPair {
		t.Errorf("state %s of pair %+v", s.State.State, s.Pair)
	}
	if len(s.Transitions) != 1 || s.Transitions[0].To != string(BackupActive) {
		t.Errorf("transitions: %+v", s.Transitions)
	}
	var jobsOf []string
	for _, j := range s.Jobs {
		jobsOf = append(jobsOf, j.Connection)
	}
	if len(jobsOf) != 2 || jobsOf[0] != "conn" || jobsOf[1] != "conn_backup" {
		t.Errorf("jobs of %v, want conn then conn_backup", jobsOf)
	}
	var checked []string
	for _, c := range s.Checks {
		checked = append(checked, c.Target)
	}
	if len(checked) != 3 || checked[0] != "src" || checked[1] != "src_backup" || checked[2] != "conn_backup" {
		t.Errorf("checks about %v, want src, src_backup, conn_backup", checked)
	}
	after, _, err := f.m.State(f.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if after.UpdatedAt != before.UpdatedAt {
		t.Errorf("Status changed the stored state: %+v -> %+v", before, after)
	}

	// The zero options read the decision and the state only, as /metrics does.
	bare, err := Statuses(f.ctx, f.store, []Pair{testPair}, f.pol, StatusOptions{})
	if err != nil || len(bare) != 1 {
		t.Fatalf("Statuses: %v, %d", err, len(bare))
	}
	if bare[0].State.State != string(BackupActive) || bare[0].Transitions != nil || bare[0].Jobs != nil || bare[0].Checks != nil {
		t.Errorf("bare status carries history: %+v", bare[0])
	}
}
