package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// haKills is how many random kills TestServeHA_RandomKillsLoseOrDuplicateNoRow
// makes: ACODE_HA_KILLS (the drill is 20), 3 by default so the
// suite stays short.
func haKills(t *testing.T) int {
	t.Helper()
	v := os.Getenv("ACODE_HA_KILLS")
	if v == "" {
		return 3
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("ACODE_HA_KILLS=%q: want a positive number", v)
	}
	return n
}

// TestServeHA_RandomKillsLoseOrDuplicateNoRow: syncs run one after another
// through a random replica of three; during each, after a random number of
// uploaded parts, kill -9 hits a random replica (the worker, the leader or
// an idle one), which is started again at once. Every job ends succeeded
// under its id, and after each DuckDB reads every primary key of both
// streams exactly once: no row lost or duplicated across the kills.
func TestServeHA_RandomKillsLoseOrDuplicateNoRow(t *testing.T) {
	t.Parallel()
	kills := haKills(t)
	c := startHAJobCluster(t, 6000)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	var workerKills, leaderKills, otherKills, failed int
	var takeovers []time.Duration
	for i := range kills {
		via := c.reps[rng.IntN(len(c.reps))]
		code, got := via.post(t, "connections/sync", map[string]string{"connectionId": "connection_mysql_local_acode"})
		if code != http.StatusOK {
			t.Fatalf("kill %d: connections/sync through %s: %d %v", i+1, via.url, code, got)
		}
		id := int64(jobField(got, "id").(float64))
		after := 1 + rng.IntN(6)
		var worker *serveProcess
		waitUntil(t, 3*time.Minute, "the job's "+strconv.Itoa(after)+" uploaded parts or its end", func() bool {
			j, err := c.st.Job(context.Background(), id)
			if err != nil {
				return false
			}
			if j.Status.Terminal() {
				return true
			}
			worker = c.owner(j)
			n := 0
			for _, s := range haJobStreams {
				ps, _ := c.st.Parts(context.Background(), id, s)
				n += len(ps)
			}
			return worker != nil && n >= after
		})
		victimAt := rng.IntN(len(c.reps))
		victim := c.reps[victimAt]
		view := victim.cluster(t)
		leader := view.Self != "" && view.Self == view.Leader
		if err := victim.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killedAt := time.Now()
		<-victim.exited
		c.reps[victimAt] = startServe(t, c.p)
		if victim == worker {
			workerKills++
			var took time.Duration
			waitUntil(t, 90*time.Second, "another replica to own job "+strconv.FormatInt(id, 10), func() bool {
				j, err := c.st.Job(context.Background(), id)
				if err == nil && (j.Status.Terminal() || (c.owner(j) != nil && c.owner(j) != victim)) {
					took = time.Since(killedAt)
					return true
				}
				return false
			})
			takeovers = append(takeovers, took)
		}
		switch {
		case leader:
			leaderKills++
		case victim != worker:
			otherKills++
		}
		var end state.Job
		waitUntil(t, 4*time.Minute, "job "+strconv.FormatInt(id, 10)+" to end", func() bool {
			j, err := c.st.Job(context.Background(), id)
			end = j
			return err == nil && j.Status.Terminal()
		})
		if end.Status != state.JobSucceeded {
			failed++
			t.Errorf("kill %d (%s): job %d ended %s: %s", i+1, victim.url, id, end.Status, end.Error)
			continue
		}
		c.checkExactlyOnce(t)
	}
	var worst time.Duration
	for _, d := range takeovers {
		worst = max(worst, d)
	}
	t.Logf("%d random kill -9: %d of the job's worker (taken over in at most %v: %v), %d of the leader, %d of an idle replica; %d jobs not succeeded; DuckDB checked every key once after each job",
		kills, workerKills, worst.Round(100*time.Millisecond), takeovers, leaderKills, otherKills, failed)
}
