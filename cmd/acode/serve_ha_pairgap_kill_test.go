package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestServeHA_KillTheReplicaInTheGapBetweenAPairsJobs: the pair's primary
// (behind toxiproxy) refuses connections, so the run Airflow triggered
// through a replica's API fails its primary's job and fails over; the
// backup (a binlog replica behind a slow toxiproxy) makes the run's
// step before the backup's job last seconds. kill -9 of the replica
// driving the run, seen from outside in that gap (the first job failed,
// no job continuing it), hands the run to another replica: the id Airflow
// holds ends succeeded through every surviving replica's API, continued
// by the backup's job, and the primary's layout holds every key once.
func TestServeHA_KillTheReplicaInTheGapBetweenAPairsJobs(t *testing.T) {
	t.Parallel()
	c, pp, bp, _ := startProxiedPair(t)
	p, st, s3, primary, database := c.p, c.st, c.s3, c.p.DB, c.p.Database
	if out, _, _ := acode(t, p, "health"); !strings.Contains(out, "primary_active") {
		t.Fatalf("health: %s", out)
	}
	bp.AddToxic(t, "slow", "latency", "downstream", map[string]any{"latency": 300})
	pp.SetEnabled(t, false)
	code, job := c.reps[0].post(t, "connections/sync", map[string]string{"connectionId": scaleOutConnection})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	head := int64(jobField(job, "id").(float64))
	var worker *serveProcess
	waitUntil(t, 60*time.Second, "the primary's job failed, failing over, no job continuing it", func() bool {
		j, err := st.Job(context.Background(), head)
		if err != nil || j.Status != state.JobFailed || j.ContinuedBy != 0 {
			return false
		}
		worker = c.owner(j)
		return worker != nil && strings.Contains(worker.stderr.String(), "failing over inside the job")
	})
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-worker.exited
	if j, err := st.Job(context.Background(), head); err != nil || j.ContinuedBy != 0 {
		t.Fatalf("job %d at the kill: %+v %v; the kill came after the backup's job was linked, testing nothing", head, j, err)
	}
	bp.RemoveToxic(t, "slow")
	rest := c.others(worker)
	waitUntil(t, 90*time.Second, "a job continuing the failed primary's", func() bool {
		j, err := st.Job(context.Background(), head)
		return err == nil && j.ContinuedBy != 0
	})
	t.Logf("run of job %d continued by another replica %v after kill -9 between its jobs", head, time.Since(killedAt).Round(100*time.Millisecond))
	waitSucceeded(t, head, rest)
	chain, err := st.JobChain(context.Background(), head)
	if err != nil || len(chain) != 2 || chain[0].Status != state.JobFailed || chain[1].Source != "backup" || chain[1].Status != state.JobSucceeded {
		t.Fatalf("chain of job %d: %+v %v; want the failed primary's job continued by the backup's, succeeded", head, chain, err)
	}
	root := primary.Root(t)
	duck := testenv.DuckDB(t)
	for _, table := range c.streams() {
		var want int64
		if err := root.QueryRow("SELECT COUNT(*) FROM `" + database + "`.`" + table + "`").Scan(&want); err != nil {
			t.Fatal(err)
		}
		glob := testenv.SQLString(filepath.Join(s3.Dir, p.Bucket, "origin=airbyte", "database=bronze_acode", table, "*", "*.parquet"))
		got := duck.Run(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS d FROM read_parquet("+glob+")")
		n, d := got[0].Rows[0]["n"], got[0].Rows[0]["d"]
		if want == 0 || n != strconv.FormatInt(want, 10) || d != n {
			t.Errorf("%s in the primary's layout: DuckDB reads %v rows, %v distinct keys; the source holds %d", table, n, d, want)
		}
	}
}

// startProxiedPair starts three replicas on PostgreSQL for a pair whose
// primary and backup (a binlog replica) sources are behind toxiproxy, as
// is the S3 endpoint of the primary's destination (the promotion's copy
// then streams through it).
func startProxiedPair(t *testing.T) (c *scaleOutCluster, pp, bp, sp *testenv.ToxiProxy) {
	t.Helper()
	c, px := startProxiedPairWith(t, "", false)
	return c, px.primary, px.backup, px.s3
}

// TestServeHA_KillTheReplicaWhilePromotingAPairsBackup: the run fails
// over (the primary refuses behind toxiproxy), the backup's job succeeds,
// and the promotion streams into the primary's layout through a slow S3
// proxy; kill -9 of the replica driving the run, seen from outside while
// promoting (the backup's job succeeded, a promoted manifest missing),
// hands the run to another replica, which redoes the promotion: every
// stream's partition in the primary's layout gets its manifest and holds
// every key once, and the id Airflow holds reads succeeded everywhere.
func TestServeHA_KillTheReplicaWhilePromotingAPairsBackup(t *testing.T) {
	t.Parallel()
	c, pp, _, sp := startProxiedPair(t)
	if out, _, _ := acode(t, c.p, "health"); !strings.Contains(out, "primary_active") {
		t.Fatalf("health: %s", out)
	}
	sp.AddToxic(t, "slow", "latency", "upstream", map[string]any{"latency": 400})
	pp.SetEnabled(t, false)
	code, job := c.reps[0].post(t, "connections/sync", map[string]string{"connectionId": scaleOutConnection})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	head := int64(jobField(job, "id").(float64))
	manifests := func() int {
		ms, _ := filepath.Glob(filepath.Join(c.s3.Dir, c.p.Bucket, "origin=airbyte", "database=bronze_acode", "*", "*", "_acode_manifest.json"))
		return len(ms)
	}
	var worker *serveProcess
	waitUntil(t, 60*time.Second, "the backup's job failing over succeeded, the promotion going on", func() bool {
		chain, err := c.st.JobChain(context.Background(), head)
		if err != nil || len(chain) != 2 || chain[1].Status != state.JobSucceeded {
			return false
		}
		worker = c.owner(chain[0])
		return worker != nil && manifests() < len(c.streams())
	})
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	<-worker.exited
	if n := manifests(); n >= len(c.streams()) {
		t.Fatalf("%d promoted manifests at the kill: the promotion had ended, testing nothing", n)
	}
	sp.RemoveToxic(t, "slow")
	waitUntil(t, 90*time.Second, "every stream promoted", func() bool { return manifests() == len(c.streams()) })
	t.Logf("promotion of job %d's run redone by another replica %v after kill -9 mid-promotion", head, time.Since(killedAt).Round(100*time.Millisecond))
	waitSucceeded(t, head, c.others(worker))
	checkEveryKeyOnce(t, c.p, filepath.Join(c.s3.Dir, c.p.Bucket), "bronze_acode", c.streams(), "in the primary's layout")
}
