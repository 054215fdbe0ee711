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

// TestServeHA_KillTheWorkerOfAFailoverPairsJobTheRunIsTakenOver: the job
// of a failover pair's primary (connection_mysql_s3_acode, its backup
// beside it) runs on one of three replicas; kill -9 of that replica hands
// the job, under the id Airflow holds, to another replica, which resumes
// it as the pair's run instead of failing it as abandoned; the job ends
// succeeded through every surviving replica with no job continuing it, and
// each stream is committed once with every key once.
func TestServeHA_KillTheWorkerOfAFailoverPairsJobTheRunIsTakenOver(t *testing.T) {
	t.Parallel()
	c := startScaleOutCluster(t, 30000, 2000)
	id := c.start(t)
	worker := c.workerWithAPart(t, id, c.streams())
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-worker.exited
	took := c.waitTakeover(t, id, worker, killedAt, 60*time.Second)
	t.Logf("pair job %d taken over %v after kill -9 of its worker", id, took.Round(100*time.Millisecond))
	rest := c.others(worker)
	waitSucceeded(t, id, rest)
	j, err := c.st.Job(context.Background(), id)
	if err != nil || j.ContinuedBy != 0 || j.Source != "primary" {
		t.Errorf("job %d: %+v %v; want the primary's job itself succeeded, continued by none", id, j, err)
	}
	resumed := regexp.MustCompile(`resuming a failover pair's job taken over.*job_id=` + strconv.FormatInt(id, 10) + `\b`)
	found := false
	for _, r := range rest {
		if resumed.MatchString(r.stderr.String()) {
			found = true
		}
	}
	if !found {
		t.Errorf("no surviving replica resumed job %d as the pair's run", id)
	}
	c.checkExactlyOnce(t, id)
}

// TestServeHA_SIGTERMOfTheWorkerOfAFailoverPairsJobMovesItAtOnce: the
// replica running a failover pair's job gets SIGTERM; it hands the job
// back at once instead of letting it run out the grace, another replica
// claims it within seconds and resumes it as the pair's run, and the job
// ends succeeded under its id, each stream committed once.
func TestServeHA_SIGTERMOfTheWorkerOfAFailoverPairsJobMovesItAtOnce(t *testing.T) {
	t.Parallel()
	c := startScaleOutCluster(t, 30000, 2000)
	id := c.start(t)
	worker := c.workerWithAPart(t, id, c.streams())
	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	took := c.waitTakeover(t, id, worker, time.Now(), sharedJobLease)
	t.Logf("pair job %d claimed by another replica %v after SIGTERM of its worker", id, took.Round(100*time.Millisecond))
	if took >= sharedJobLease/2 {
		t.Errorf("pair job %d moved %v after SIGTERM: it waited for a lease, not a hand-off", id, took)
	}
	rest := c.others(worker)
	waitSucceeded(t, id, rest)
	atts, err := c.st.Attempts(context.Background(), id)
	if err != nil || len(atts) < 2 || !strings.Contains(atts[0].Error, "hands the job to another") {
		t.Errorf("attempts of job %d: %+v %v; want the first handed off, then another", id, atts, err)
	}
	c.checkExactlyOnce(t, id)
}
