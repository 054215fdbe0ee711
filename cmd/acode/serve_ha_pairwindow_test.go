package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// pairProxies are the toxiproxy proxies in front of a proxied pair's
// parts; state is nil unless the replicas reach PostgreSQL through one.
type pairProxies struct{ primary, backup, s3, state *testenv.ToxiProxy }

// startProxiedPairWith is startProxiedPair with extra lines for the
// project's acode.yaml and, with proxyState, the replicas' state_db behind
// toxiproxy too (the test's own store reads it directly), so a slow state
// stretches the steps of a pair's run for a test to stop it at one.
func startProxiedPairWith(t *testing.T, extra string, proxyState bool) (*scaleOutCluster, pairProxies) {
	t.Helper()
	s3 := testenv.StartS3(t)
	primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	replica := testenv.StartReplica(t, primary)
	database := "acode_" + strconv.Itoa(primary.Port)
	demotest.Fill(t, primary, database, demo.Options{Rows: 3000, Seed: 11, Days: 2, Now: time.Now()})
	p := testenv.NewProject(t, primary, database, s3)
	primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	p.PointBackup(t, replica)
	tp := testenv.StartToxiproxy(t)
	px := pairProxies{primary: tp.Proxy(t, "primary", primary.Addr()), backup: tp.Proxy(t, "backup", replica.Addr())}
	px.s3 = tp.Proxy(t, "s3", strings.TrimPrefix(s3.Endpoint, "http://"))
	p.Edit(t, "destinations/destination_s3_acode/configuration.yaml", "s3_endpoint: "+s3.Endpoint, "s3_endpoint: http://"+px.s3.Addr())
	p.Edit(t, "sources/source_mysql_acode/configuration.yaml", "port: "+strconv.Itoa(primary.Port), "port: "+strconv.Itoa(px.primary.Port))
	p.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", "port: "+strconv.Itoa(replica.Port), "port: "+strconv.Itoa(px.backup.Port))
	replica.WaitReplicaCaughtUp(t, primary)
	dbURL := testenv.SharedPostgres(t).NewDatabase(t)
	servedURL := dbURL
	if proxyState {
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		px.state = tp.Proxy(t, "state", u.Host)
		u.Host = px.state.Addr()
		servedURL = u.String()
	}
	settings := "state_db: " + servedURL + "\nsync:\n  chunk_rows: 1000\n  file_size_mb: 1\n  parallel_streams: 1\n" +
		"health:\n  connect_timeout: 10s\n  query_timeout: 20s\nserve:\n  job_attempts: 3\n  retry_delay: 1s\n" + extra
	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &scaleOutCluster{haJobCluster: haJobCluster{p: p, st: st}, s3: s3}
	for range 3 {
		c.reps = append(c.reps, startServe(t, p))
	}
	return c, px
}

// stateLatency is the delay the slowed state adds to each answer: a write
// transaction of the run (begin, write lock, reads, write, commit) then
// takes a second or more, while the test reads the state directly.
const stateLatency = 200

// pollFast checks cond every 10 ms for up to limit: the steps of a run on
// the slowed state last about a second, and the test must stop the replica
// inside one.
func pollFast(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// healthy checks the pair reads primary_active, before a test breaks it.
func (c *scaleOutCluster) healthy(t *testing.T) {
	t.Helper()
	if out, _, _ := acode(t, c.p, "health"); !strings.Contains(out, "primary_active") {
		t.Fatalf("health: %s", out)
	}
}

// triggerPairRun starts the pair's run through the first replica, as
// Airflow does, and returns the id it was handed.
func (c *scaleOutCluster) triggerPairRun(t *testing.T) int64 {
	t.Helper()
	code, job := c.reps[0].post(t, "connections/sync", map[string]string{"connectionId": scaleOutConnection})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	return int64(jobField(job, "id").(float64))
}

// backupJobs are the jobs of the pair's backup connection.
func (c *scaleOutCluster) backupJobs(t *testing.T) []state.Job {
	t.Helper()
	jobs, err := c.st.ListJobs(context.Background(), state.JobFilter{Connection: scaleOutConnection + "_backup"})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// checkRunFailedOver checks the end of a run that failed over: the id
// Airflow holds reads succeeded through reps, its chain is the failed
// primary's job continued by the one backup job there is, succeeded, and
// DuckDB reads every key of the source once in the primary's layout.
func (c *scaleOutCluster) checkRunFailedOver(t *testing.T, head int64, reps []*serveProcess) {
	t.Helper()
	waitSucceeded(t, head, reps)
	chain, err := c.st.JobChain(context.Background(), head)
	if err != nil || len(chain) != 2 || chain[0].Status != state.JobFailed || chain[1].Source != "backup" || chain[1].Status != state.JobSucceeded {
		t.Fatalf("chain of job %d: %+v %v; want the failed primary's job continued by the backup's, succeeded", head, chain, err)
	}
	if bj := c.backupJobs(t); len(bj) != 1 {
		t.Errorf("%d backup jobs: %+v; want the one the chain leads to (no job run twice)", len(bj), bj)
	}
	checkEveryKeyOnce(t, c.p, filepath.Join(c.s3.Dir, c.p.Bucket), "bronze_acode", c.streams(), "in the primary's layout")
}

// promotedManifests are the manifests in the primary's layout, with the
// time each was last written.
func (c *scaleOutCluster) promotedManifests() map[string]time.Time {
	ms, _ := filepath.Glob(filepath.Join(c.s3.Dir, c.p.Bucket, "origin=airbyte", "database=bronze_acode", "*", "*", "_acode_manifest.json"))
	out := map[string]time.Time{}
	for _, m := range ms {
		if fi, err := os.Stat(m); err == nil {
			out[m] = fi.ModTime()
		}
	}
	return out
}

// waitLostRun waits until worker, just woken by SIGCONT, logs that it
// lost the run it drove, and logs how long that took and the line.
func waitLostRun(t *testing.T, worker *serveProcess) {
	t.Helper()
	wokeAt := time.Now()
	waitUntil(t, 90*time.Second, "the woken replica to find it lost the run", func() bool {
		return strings.Contains(worker.stderr.String(), "lost the run to another replica")
	})
	t.Logf("the woken replica found it lost the run %v after SIGCONT", time.Since(wokeAt).Round(100*time.Millisecond))
	for _, line := range strings.Split(worker.stderr.String(), "\n") {
		if strings.Contains(line, "lost the run to another replica") {
			t.Logf("it logged: %s", line)
		}
	}
}

// logsOnFailure logs every replica's stderr when the test failed.
func (c *scaleOutCluster) logsOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range c.reps {
				t.Logf("replica %s logged:\n%s", r.url, r.stderr)
			}
		}
	})
}

// TestServeHA_KillAfterThePrimarysJobFailedBeforeTheMachineLearntIt: no
// retries, so the failover machine hears of the primary's failed job only
// after the job is recorded failed. With the replicas' state slowed behind
// toxiproxy, kill -9 of the replica driving the run as the state shows the
// job failed and the machine not yet told (observed_job) hands the run to
// another replica, which feeds the recorded outcome (primary_db_down, on
// the source) to the machine and fails over: the id Airflow holds ends
// succeeded, continued by the one backup job, every key once.
func TestServeHA_KillAfterThePrimarysJobFailedBeforeTheMachineLearntIt(t *testing.T) {
	t.Parallel()
	c, px := startProxiedPairWith(t, "jobs:\n  retries: 0\n", true)
	c.logsOnFailure(t)
	c.healthy(t)
	px.primary.SetEnabled(t, false)
	px.state.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": stateLatency})
	head := c.triggerPairRun(t)
	ctx := context.Background()
	unobserved := func() bool {
		fs, err := c.st.FailoverState(ctx, scaleOutConnection)
		return err != nil || (fs.ObservedJob != head && fs.State == "primary_active")
	}
	var worker *serveProcess
	pollFast(t, 90*time.Second, "the primary's job failed, its outcome not fed to the machine", func() bool {
		j, err := c.st.Job(ctx, head)
		if err != nil || j.Status != state.JobFailed {
			return false
		}
		worker = c.owner(j)
		return unobserved()
	})
	if worker == nil {
		t.Fatal("the failed job's owner is none of the replicas")
	}
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-worker.exited
	if !unobserved() {
		t.Fatal("the machine had the primary's outcome at the kill: testing nothing")
	}
	px.state.RemoveToxic(t, "slow")
	rest := c.others(worker)
	waitUntil(t, 90*time.Second, "a job continuing the failed primary's", func() bool {
		j, err := c.st.Job(ctx, head)
		return err == nil && j.ContinuedBy != 0
	})
	t.Logf("run of job %d continued by another replica %v after kill -9 before the machine learnt the primary's failure",
		head, time.Since(killedAt).Round(100*time.Millisecond))
	c.checkRunFailedOver(t, head, rest)
	t.Logf("run of job %d succeeded %v after the kill", head, time.Since(killedAt).Round(100*time.Millisecond))
	fed := false
	for _, r := range rest {
		fed = fed || strings.Contains(r.stderr.String(), "feeding the failover machine the outcome of the primary's job")
	}
	if !fed {
		t.Error("no surviving replica fed the primary job's outcome to the machine")
	}
	if fs, err := c.st.FailoverState(ctx, scaleOutConnection); err != nil || fs.State != "backup_active" {
		t.Errorf("failover state %+v %v; want backup_active", fs, err)
	}
}

// TestServeHA_KillAsTheBackupsJobIsCreatedLeavesItInTheChain: with the
// replicas' state slowed, kill -9 of the replica driving a pair's run the
// moment the state shows the backup's job. That job was created linked
// as the failed primary's continuation in the same write, so the id
// Airflow holds already leads to it; another replica takes the job over
// and the run ends succeeded through it: one backup job, every key once.
func TestServeHA_KillAsTheBackupsJobIsCreatedLeavesItInTheChain(t *testing.T) {
	t.Parallel()
	c, px := startProxiedPairWith(t, "", true)
	c.logsOnFailure(t)
	c.healthy(t)
	px.primary.SetEnabled(t, false)
	px.state.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": stateLatency})
	head := c.triggerPairRun(t)
	var backup state.Job
	pollFast(t, 120*time.Second, "the backup's job recorded", func() bool {
		bj := c.backupJobs(t)
		if len(bj) == 0 {
			return false
		}
		backup = bj[0]
		return true
	})
	worker := c.owner(backup)
	if worker == nil {
		t.Fatalf("the backup job's owner %s is none of the replicas", backup.Owner)
	}
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-worker.exited
	j, err := c.st.Job(context.Background(), head)
	if err != nil || j.ContinuedBy != backup.ID {
		t.Fatalf("job %d at the kill: %+v %v; want it continued by the backup's job %d already", head, j, err, backup.ID)
	}
	if b, err := c.st.Job(context.Background(), backup.ID); err != nil || b.Status.Terminal() {
		t.Fatalf("backup job at the kill: %+v %v; the kill came after it ended, testing nothing", b, err)
	}
	px.state.RemoveToxic(t, "slow")
	rest := c.others(worker)
	took := c.waitTakeover(t, backup.ID, worker, killedAt, 90*time.Second)
	t.Logf("backup job %d of run %d taken over %v after kill -9 as it was created", backup.ID, head, took.Round(100*time.Millisecond))
	c.checkRunFailedOver(t, head, rest)
	t.Logf("run of job %d succeeded %v after the kill", head, time.Since(killedAt).Round(100*time.Millisecond))
}

// TestServeHA_AStalledReplicaThatLostAPairsRunWritesNothingOfIt: SIGSTOP
// of the replica driving a pair's run, caught between its jobs (the
// backup's reads slowed behind toxiproxy); another replica claims the run
// (a new grant) and ends it succeeded. SIGCONT: the woken replica goes on
// from where it stopped but every write it tries for the run is refused
// (state.ErrLostRun): no second backup job, no step of the failover
// machine, no promotion; the run stays as the new owner ended it.
func TestServeHA_AStalledReplicaThatLostAPairsRunWritesNothingOfIt(t *testing.T) {
	t.Parallel()
	c, px := startProxiedPairWith(t, "", false)
	c.logsOnFailure(t)
	ctx := context.Background()
	c.healthy(t)
	px.backup.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 300})
	px.primary.SetEnabled(t, false)
	head := c.triggerPairRun(t)
	var worker *serveProcess
	waitUntil(t, 60*time.Second, "the primary's job failed, failing over, no job continuing it", func() bool {
		j, err := c.st.Job(ctx, head)
		if err != nil || j.Status != state.JobFailed || j.ContinuedBy != 0 {
			return false
		}
		worker = c.owner(j)
		return worker != nil && strings.Contains(worker.stderr.String(), "failing over inside the job")
	})
	if err := worker.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	t.Cleanup(func() { _ = worker.cmd.Process.Signal(syscall.SIGCONT) })
	if j, err := c.st.Job(ctx, head); err != nil || j.ContinuedBy != 0 {
		t.Fatalf("job %d at the stop: %+v %v; the backup's job was linked already, testing nothing", head, j, err)
	}
	px.backup.RemoveToxic(t, "slow")
	rest := c.others(worker)
	waitUntil(t, 120*time.Second, "a job continuing the failed primary's", func() bool {
		j, err := c.st.Job(ctx, head)
		return err == nil && j.ContinuedBy != 0
	})
	t.Logf("run of job %d continued by another replica %v after SIGSTOP between its jobs", head, time.Since(stoppedAt).Round(100*time.Millisecond))
	manifests := c.promotedManifests
	waitSucceeded(t, head, rest)
	waitUntil(t, 60*time.Second, "every stream promoted", func() bool { return len(manifests()) == len(c.streams()) })
	waitUntil(t, 30*time.Second, "the new owner's run closed", func() bool {
		live, err := c.st.RunLive(ctx, head, 15*time.Second)
		return err == nil && !live
	})
	before, err := c.st.FailoverState(ctx, scaleOutConnection)
	if err != nil {
		t.Fatal(err)
	}
	promoted, jobsBefore := manifests(), c.backupJobs(t)
	if err := worker.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitLostRun(t, worker)
	if after := c.backupJobs(t); len(after) != len(jobsBefore) {
		t.Errorf("backup jobs after the stalled replica woke: %+v; before %+v", after, jobsBefore)
	}
	if after, err := c.st.FailoverState(ctx, scaleOutConnection); err != nil || !after.UpdatedAt.Equal(before.UpdatedAt) || after.State != before.State {
		t.Errorf("failover state after the stalled replica woke: %+v %v; before %+v", after, err, before)
	}
	now := manifests()
	for m, at := range promoted {
		if !now[m].Equal(at) {
			t.Errorf("promoted manifest %s rewritten after the stalled replica woke", m)
		}
	}
	c.checkRunFailedOver(t, head, c.reps)
}

// TestServeHA_AStalledReplicaThatLostAPairsRunMidPromotionPublishesNothing:
// SIGSTOP of the replica driving a pair's run while it promotes the
// backup's snapshot through a slow S3 proxy; another replica claims the run
// and redoes the promotion. SIGCONT: the woken replica finishes the copy it
// was in, but the promotion's check of the run before publishing refuses
// it (state.ErrLostRun): no promoted manifest is written again.
func TestServeHA_AStalledReplicaThatLostAPairsRunMidPromotionPublishesNothing(t *testing.T) {
	t.Parallel()
	c, px := startProxiedPairWith(t, "", false)
	c.logsOnFailure(t)
	ctx := context.Background()
	c.healthy(t)
	px.s3.AddToxic(t, "slow", "latency", "upstream", map[string]any{"latency": 400})
	px.primary.SetEnabled(t, false)
	head := c.triggerPairRun(t)
	manifests := c.promotedManifests
	var worker *serveProcess
	waitUntil(t, 60*time.Second, "the backup's job failing over succeeded, the promotion going on", func() bool {
		chain, err := c.st.JobChain(ctx, head)
		if err != nil || len(chain) != 2 || chain[1].Status != state.JobSucceeded {
			return false
		}
		worker = c.owner(chain[0])
		return worker != nil && len(manifests()) < len(c.streams())
	})
	if err := worker.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	t.Cleanup(func() { _ = worker.cmd.Process.Signal(syscall.SIGCONT) })
	if n := len(manifests()); n >= len(c.streams()) {
		t.Fatalf("%d promoted manifests at the stop: the promotion had ended, testing nothing", n)
	}
	px.s3.RemoveToxic(t, "slow")
	waitUntil(t, 120*time.Second, "every stream promoted by another replica", func() bool { return len(manifests()) == len(c.streams()) })
	t.Logf("promotion of job %d's run redone by another replica %v after SIGSTOP mid-promotion", head, time.Since(stoppedAt).Round(100*time.Millisecond))
	waitUntil(t, 30*time.Second, "the new owner's run closed", func() bool {
		live, err := c.st.RunLive(ctx, head, 15*time.Second)
		return err == nil && !live
	})
	promoted := manifests()
	if err := worker.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitLostRun(t, worker)
	now := manifests()
	for m, at := range promoted {
		if !now[m].Equal(at) {
			t.Errorf("promoted manifest %s rewritten after the stalled replica woke", m)
		}
	}
	c.checkRunFailedOver(t, head, c.reps)
}
