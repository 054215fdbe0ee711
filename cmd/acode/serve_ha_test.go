package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// clusterAnswer is GET /api/acode/cluster.
type clusterAnswer struct {
	Self     string `json:"self"`
	Leader   string `json:"leader"`
	Replicas []struct {
		ID     string `json:"id"`
		Leader bool   `json:"leader"`
	} `json:"replicas"`
}

func (sp *serveProcess) cluster(t *testing.T) clusterAnswer {
	t.Helper()
	var c clusterAnswer
	if code, body := sp.get(t, "/api/acode/cluster", true); code == http.StatusOK {
		_ = json.Unmarshal([]byte(body), &c)
	}
	return c
}

// healthRounds returns the distinct times of the stored health rounds.
func healthRounds(t *testing.T, st *state.Store) []time.Time {
	t.Helper()
	recs, err := st.HealthSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	for _, r := range recs {
		if len(out) == 0 || r.Time.Sub(out[len(out)-1]) > time.Second {
			out = append(out, r.Time)
		}
	}
	return out
}

// TestServeHA_KillTheLeaderOfThreeReplicas runs three `acode serve` on one
// PostgreSQL state: exactly one leads (every replica says which, the status
// page lists all three); after kill -9 of the leader another leads within
// 25 s and the health rounds go on; the scheduled connection fires at most
// once per slot across the replicas and the kill, and keeps firing; SIGTERM
// of a leader hands over at once; with every replica gone, one restarted
// replica leads and the schedule resumes.
func TestServeHA_KillTheLeaderOfThreeReplicas(t *testing.T) {
	t.Parallel()
	const interval, slot = 10 * time.Second, 10 * time.Second
	p := seededProject(t, 300, nil)
	pg := testenv.SharedPostgres(t)
	const pgPass = "Ha-pg-Pa55word"
	p.Env["ACODE_PG_PASSWORD"] = pgPass
	dbURL := pg.NewDatabase(t)
	url := strings.Replace(dbURL, "postgres@", "postgres:${ACODE_PG_PASSWORD}@", 1)
	settings := "state_db: " + url + "\nhealth:\n  interval: " + interval.String() + "\n  connect_timeout: 2s\nsync:\n  chunk_rows: 2000\n"
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Edit(t, "connections/connection_mysql_local_acode/configuration.yaml", "schedule_type: manual",
		"schedule_type: cron\n  schedule_data:\n    cron:\n      cron_expression: \"0/10 * * * * ?\"\n      cron_time_zone: UTC")
	// The backup source is down for the whole test: its connectivity check
	// is critical in every round, and the alert about it is sent once, by
	// whichever replica leads, kill or not.
	_, closedPort, _ := strings.Cut(freeAddr(t), ":")
	p.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", "port: 3306", "port: "+closedPort)
	recv := newHookReceiver(t)
	const slackPath = "/services/T1/B1/haSlackPath"
	p.Env["ACODE_SLACK_WEBHOOK_URL"] = recv.srv.URL + slackPath
	backupAlerts := func() int {
		n := 0
		for _, m := range recv.at(slackPath) {
			if b, _ := json.Marshal(m); strings.Contains(string(b), "mysql_connectivity on source_mysql_acode_backup") &&
				!strings.Contains(string(b), "is ok again") {
				n++
			}
		}
		return n
	}
	st, err := state.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var reps []*serveProcess
	for range 3 {
		reps = append(reps, startServe(t, p))
	}
	// One leader, and every replica names the same one.
	var leader string
	waitUntil(t, 40*time.Second, "one leader named by all three replicas", func() bool {
		first := reps[0].cluster(t)
		if first.Leader == "" || len(first.Replicas) != 3 {
			return false
		}
		for _, r := range reps[1:] {
			if c := r.cluster(t); c.Leader != first.Leader || len(c.Replicas) != 3 {
				return false
			}
		}
		leader = first.Leader
		return true
	})
	_, page := reps[1].get(t, "/", true)
	if strings.Count(page, `class="replica"`) != 3 || strings.Count(page, `data-leader="true"`) != 1 {
		t.Errorf("status page: want 3 replicas, one marked leader:\n%s", page)
	}
	var killed *serveProcess
	var rest []*serveProcess
	for _, r := range reps {
		if strings.HasSuffix(leader, ":"+strconv.Itoa(r.cmd.Process.Pid)) {
			killed = r
		} else {
			rest = append(rest, r)
		}
	}
	if killed == nil {
		t.Fatalf("leader %q is none of the three processes", leader)
	}
	// Let the leader run two health rounds, then kill it right after one.
	waitUntil(t, 4*interval, "two health rounds by the first leader", func() bool { return len(healthRounds(t, st)) >= 2 })
	waitUntil(t, 2*interval, "the alert on the unreachable backup", func() bool { return backupAlerts() > 0 })
	if err := killed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-killed.exited
	var next string
	waitUntil(t, 25*time.Second, "a new leader after kill -9 of the leader", func() bool {
		a, b := rest[0].cluster(t), rest[1].cluster(t)
		if a.Leader != "" && a.Leader != leader && a.Leader == b.Leader {
			next = a.Leader
			return true
		}
		return false
	})
	t.Logf("new leader %s %v after kill -9 of %s", next, time.Since(killedAt).Round(100*time.Millisecond), leader)

	// Health rounds continue: one after the kill, no gap beyond an interval
	// plus the takeover bound, and each round run once (not once per replica).
	waitUntil(t, 25*time.Second+2*interval, "a health round by the new leader", func() bool {
		rs := healthRounds(t, st)
		return len(rs) >= 2 && rs[len(rs)-1].After(killedAt) && rs[len(rs)-2].After(killedAt)
	})
	rounds := healthRounds(t, st)
	for i := 1; i < len(rounds); i++ {
		if gap := rounds[i].Sub(rounds[i-1]); gap > interval+25*time.Second {
			t.Errorf("health rounds %v apart (%v then %v); want at most an interval plus the 25 s takeover", gap, rounds[i-1], rounds[i])
		}
		if gap := rounds[i].Sub(rounds[i-1]); gap < interval/2 {
			t.Errorf("health rounds only %v apart: two replicas ran the loop", gap)
		}
	}

	// The schedule fired after the takeover, and never twice in one slot.
	waitUntil(t, 3*slot, "a scheduled job after the takeover", func() bool {
		js, _ := st.JobsSince(context.Background(), killedAt.Add(time.Second))
		return len(js) > 0
	})
	jobs, err := st.JobsSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	perSlot := map[time.Time]int{}
	for _, j := range jobs {
		perSlot[j.CreatedAt.Truncate(slot)]++
	}
	for s, n := range perSlot {
		if n > 1 {
			t.Errorf("slot %v fired %d jobs, want 1", s, n)
		}
	}
	if len(perSlot) < 3 {
		t.Errorf("only %d slots fired over the test; the schedule stopped", len(perSlot))
	}
	if n := backupAlerts(); n != 1 {
		t.Errorf("the unreachable backup was alerted %d times across the leader change, want once", n)
	}
	if conds, err := st.AlertConditions(context.Background()); err != nil || !strings.Contains(fmt.Sprint(conds), "source_mysql_acode_backup") {
		t.Errorf("the backup's alert condition is not held after the takeover: %v %v", conds, err)
	}
	leading := 0
	for _, r := range rest {
		if _, m := r.get(t, "/metrics", true); strings.Contains(m, "\nacode_cluster_leader 1\n") {
			leading++
		}
	}
	if leading != 1 {
		t.Errorf("%d surviving replicas export acode_cluster_leader 1, want exactly 1", leading)
	}

	// SIGTERM of the new leader: it resigns as it stops, and the last
	// replica leads without waiting out a lease.
	var last, stopping *serveProcess
	for _, r := range rest {
		if strings.HasSuffix(next, ":"+strconv.Itoa(r.cmd.Process.Pid)) {
			stopping = r
		} else {
			last = r
		}
	}
	if err := stopping.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termAt := time.Now()
	waitUntil(t, 12*time.Second, "the last replica to lead after SIGTERM of the leader", func() bool {
		return last.cluster(t).Leader == last.cluster(t).Self
	})
	t.Logf("leader after SIGTERM of %s: %v", next, time.Since(termAt).Round(100*time.Millisecond))
	<-stopping.exited

	// Every replica gone (the last one killed too), then one started again:
	// it leads once the dead leader's lease has run out, and the schedule
	// resumes, firing the slots missed meanwhile once.
	if err := last.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-last.exited
	downAt := time.Now()
	time.Sleep(slot) // at least one slot passes with no replica at all
	again := startServe(t, p)
	reps = append(reps, again)
	waitUntil(t, 30*time.Second, "the restarted replica to lead", func() bool {
		c := again.cluster(t)
		return c.Leader != "" && c.Leader == c.Self
	})
	waitUntil(t, 3*slot, "a scheduled job after the restart", func() bool {
		js, _ := st.JobsSince(context.Background(), downAt.Add(slot))
		return len(js) > 0
	})

	jobs, err = st.JobsSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	perSlot = map[time.Time]int{}
	for _, j := range jobs {
		perSlot[j.CreatedAt.Truncate(slot)]++
	}
	for s, n := range perSlot {
		if n > 1 {
			t.Errorf("after the restart: slot %v fired %d jobs, want 1", s, n)
		}
	}
	for _, r := range reps {
		if strings.Contains(r.stderr.String(), pgPass) {
			t.Error("a replica's log shows the PostgreSQL password")
		}
	}
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
