package syncer

import (
	"context"
	"testing"

	"github.com/acode-dev/acode/internal/state"
)

func TestSync_OnJobCreatedSeesThePendingJobBeforeItRuns(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 300)
	f := newFixture(t, m, database, nil)
	p := f.project(t)
	st, err := state.Open(context.Background(), p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var created []state.Job
	var stored state.Job
	res, err := f.run(t, "connection_mysql_local_acode", Options{OnJobCreated: func(j state.Job) state.RunLease {
		created = append(created, j)
		stored, _ = st.Job(context.Background(), j.ID)
		return state.RunLease{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 1 || created[0].ID != res.JobID {
		t.Fatalf("OnJobCreated got %v, want once with job %d", created, res.JobID)
	}
	if created[0].Status != state.JobPending || stored.Status != state.JobPending {
		t.Errorf("at creation the job is %s (stored %s), want pending", created[0].Status, stored.Status)
	}

	calls := 0
	if _, err := f.run(t, "no_such_connection", Options{OnJobCreated: func(state.Job) state.RunLease { calls++; return state.RunLease{} }}); err == nil || calls != 0 {
		t.Errorf("unknown connection: err %v, OnJobCreated called %d times; want an error and no call", err, calls)
	}
}
