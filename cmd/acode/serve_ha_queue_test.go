package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeHA_AJobQueuedThroughAReplicaThatRunsNoneRunsOnAnother: Airflow
// starts a sync through a replica that runs no job (--queue-only, a replica
// at capacity); the job is queued in the state and another replica claims
// it within seconds; it ends succeeded under the id Airflow was handed,
// through every replica's jobs/get, every primary key once.
func TestServeHA_AJobQueuedThroughAReplicaThatRunsNoneRunsOnAnother(t *testing.T) {
	t.Parallel()
	c := startHAJobClusterWith(t, 4000, []string{"--queue-only"}, nil, nil)
	id, worker := c.trigger(t)
	if worker == c.reps[0] {
		t.Fatalf("job %d runs on the replica that runs no job", id)
	}
	j, err := c.st.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	atts, err := c.st.Attempts(context.Background(), id)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts of job %d: %v %v", id, atts, err)
	}
	claim := atts[0].CreatedAt.Sub(j.CreatedAt)
	t.Logf("job %d queued through %s, claimed by %s %v later", id, c.reps[0].url, worker.url, claim.Round(time.Millisecond))
	if claim > 10*time.Second {
		t.Errorf("job %d waited %v in the queue with two replicas free", id, claim)
	}
	if !strings.Contains(worker.stderr.String(), "claimed a queued job") {
		t.Errorf("the worker did not log its claim:\n%s", worker.stderr)
	}
	waitSucceeded(t, id, c.reps)
	c.checkExactlyOnce(t)
}

// TestServeHA_SIGTERMOfTheWorkerMovesItsJobAtOnce: the replica running a
// 2-stream sync gets SIGTERM mid-range; it stops the job where its parts
// are recorded and hands it back to the queue, another replica claims it
// well within the 40 s lease and resumes the uploaded ranges, and the job
// ends succeeded under its id with every primary key once.
func TestServeHA_SIGTERMOfTheWorkerMovesItsJobAtOnce(t *testing.T) {
	t.Parallel()
	c := startHAJobCluster(t, 2000)
	id, worker := c.trigger(t)
	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termAt := time.Now()
	took := c.waitTakeover(t, id, worker, termAt, sharedJobLease)
	t.Logf("job %d claimed by another replica %v after SIGTERM of its worker (lease %v)", id, took.Round(100*time.Millisecond), sharedJobLease)
	if took >= sharedJobLease/2 {
		t.Errorf("job %d moved %v after SIGTERM: it waited for a lease, not a hand-off", id, took)
	}
	select {
	case <-worker.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the SIGTERMed replica did not exit:\n%s", worker.stderr)
	}
	if !strings.Contains(worker.stderr.String(), "job handed off to the queue") {
		t.Errorf("the SIGTERMed worker did not hand job %d off:\n%s", id, worker.stderr)
	}
	rest := c.others(worker)
	claimedLine := regexp.MustCompile(`claimed a queued job.*job_id=` + strconv.FormatInt(id, 10) + `\b`)
	claimed := false
	for _, r := range rest {
		if claimedLine.MatchString(r.stderr.String()) {
			claimed = true
		}
	}
	if !claimed {
		t.Errorf("no replica claimed job %d from the queue", id)
	}
	waitSucceeded(t, id, rest)
	atts, err := c.st.Attempts(context.Background(), id)
	if err != nil || len(atts) < 2 || !strings.Contains(atts[0].Error, "hands the job to another") {
		t.Errorf("attempts of job %d: %+v %v; want the first handed off, then another", id, atts, err)
	}
	resumed := false
	for _, r := range rest {
		for _, l := range strings.Split(r.stderr.String(), "\n") {
			if strings.Contains(l, "ranges resumed from earlier attempts") && strings.Contains(l, "job_id="+strconv.FormatInt(id, 10)+" ") {
				resumed = true
			}
		}
	}
	if !resumed {
		t.Errorf("the replica that claimed job %d resumed no range", id)
	}
	c.checkStagingKeysPerAttempt(t, id)
	c.checkExactlyOnce(t)
}
