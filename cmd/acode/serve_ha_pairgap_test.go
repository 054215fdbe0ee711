package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// startPairCluster is startScaleOutCluster with the pair's backup side
// pointed at a binlog replica of the primary (withReplica: the machine
// may fail over to it) or at the primary itself, in the same bucket, so
// its jobs run and promote.
func startPairCluster(t *testing.T, rows int, withReplica bool) *scaleOutCluster {
	t.Helper()
	s3 := testenv.StartS3(t)
	var p *testenv.Project
	if withReplica {
		primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
		replica := testenv.StartReplica(t, primary)
		database := "acode_" + strconv.Itoa(primary.Port)
		demotest.Fill(t, primary, database, demo.Options{Rows: rows, Seed: 11, Days: 2, Now: time.Now()})
		p = testenv.NewProject(t, primary, database, s3)
		primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
		p.PointBackup(t, replica)
		replica.WaitReplicaCaughtUp(t, primary)
	} else {
		p = seededProject(t, rows, s3)
		p.PointBackup(t, p.DB)
	}
	dbURL := testenv.SharedPostgres(t).NewDatabase(t)
	settings := "state_db: " + dbURL + "\nsync:\n  chunk_rows: 1000\n  file_size_mb: 1\n  parallel_streams: 1\n" +
		"serve:\n  job_attempts: 3\n  retry_delay: 1s\n"
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
	return c
}

// TestServeHA_KillTheReplicaPromotingAPairsBackupTheRunRedoesThePromotion:
// a failover pair's run has committed its backup's job and is promoting
// it into the primary's layout when the replica driving it gets kill -9:
// the promoted partitions are half written (no manifest, a file missing)
// and no job of the chain is live for the job takeover to find. Another
// replica takes the run over and redoes the promotion; every promoted
// partition ends complete (its manifest back, DuckDB reading every key of
// the stream once) and the chain reads succeeded through every surviving
// replica's API.
func TestServeHA_KillTheReplicaPromotingAPairsBackupTheRunRedoesThePromotion(t *testing.T) {
	t.Parallel()
	c := startPairCluster(t, 3000, false)
	// The run up to its promotion: the backup's job, committed and promoted
	// once, by `acode sync` on the same state.
	out, stderr, code := acode(t, c.p, "sync", "--source", "backup", "--json", scaleOutConnection)
	if code != 0 {
		t.Fatalf("sync --source backup: exit %d\n%s\n%s", code, out, stderr)
	}
	var res struct {
		JobID    int64 `json:"job_id"`
		Failover struct {
			Promotions []struct {
				Stream  string `json:"stream"`
				To      string `json:"to"`
				Skipped string `json:"skipped"`
			} `json:"promotions"`
		} `json:"failover"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.JobID == 0 || len(res.Failover.Promotions) == 0 {
		t.Fatalf("sync --source backup: %v\n%s", err, out)
	}
	// The replica driving the run dies mid-promotion: its run record stays,
	// the promoted partitions lack their manifest and a file.
	worker := c.reps[2]
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-worker.exited
	reps, err := c.st.Replicas(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dead := ""
	for _, r := range reps {
		if strings.HasSuffix(r.ID, ":"+strconv.Itoa(worker.cmd.Process.Pid)) {
			dead = r.ID
		}
	}
	if dead == "" {
		t.Fatalf("no replica row of the killed replica among %+v", reps)
	}
	if _, err := c.st.OpenRun(context.Background(), res.JobID, dead); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	for _, p := range res.Failover.Promotions {
		if p.Skipped != "" {
			continue
		}
		dir := c.s3.ObjectPath(c.p.Bucket, p.To)
		dirs[p.Stream] = dir
		if err := os.Remove(filepath.Join(dir, "_acode_manifest.json")); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
		if len(files) == 0 {
			t.Fatalf("promoted partition %s holds no Parquet file", dir)
		}
		if err := os.Remove(files[0]); err != nil {
			t.Fatal(err)
		}
	}
	rest := c.others(worker)
	waitUntil(t, 90*time.Second, "the promoted partitions' manifests back", func() bool {
		for _, dir := range dirs {
			if _, err := os.Stat(filepath.Join(dir, "_acode_manifest.json")); err != nil {
				return false
			}
		}
		return true
	})
	found := false
	for _, r := range rest {
		if strings.Contains(r.stderr.String(), "redoing the promotion of a failover pair's run abandoned while promoting") {
			found = true
		}
	}
	if !found {
		t.Error("no surviving replica logged redoing the promotion")
	}
	waitSucceeded(t, res.JobID, rest)
	root := c.p.DB.Root(t)
	duck := testenv.DuckDB(t)
	for stream, dir := range dirs {
		var want int64
		if err := root.QueryRow("SELECT COUNT(*) FROM `" + c.p.Database + "`.`" + stream + "`").Scan(&want); err != nil {
			t.Fatal(err)
		}
		got := duck.Run(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS d FROM read_parquet("+testenv.SQLString(dir+"/*.parquet")+")")
		n, d := got[0].Rows[0]["n"], got[0].Rows[0]["d"]
		if want == 0 || n != strconv.FormatInt(want, 10) || d != n {
			t.Errorf("%s promoted: DuckDB reads %v rows, %v distinct keys; the source holds %d", stream, n, d, want)
		}
	}
}

// TestServeHA_KillTheReplicaBetweenAPairsJobsTheRunFailsOver: a failover
// pair's run has seen its primary's job fail on a dead primary (the
// machine names the backup) when the replica driving it gets kill -9,
// before the backup's job exists: nothing of the chain is live. Another
// replica takes the run over and runs the backup's job as the
// continuation of the failed one; the id Airflow holds ends succeeded
// through every surviving replica's API and the promoted snapshot is
// complete.
func TestServeHA_KillTheReplicaBetweenAPairsJobsTheRunFailsOver(t *testing.T) {
	t.Parallel()
	c := startPairCluster(t, 3000, true)
	// The run up to its gap: the primary's job on a primary that refuses
	// connections, by `acode sync` on the same state (the replicas keep the
	// project they loaded).
	// One health round measures the replica, as serve's loop does (its
	// exit says the destinations hold nothing yet, which is so).
	if out, _, _ := acode(t, c.p, "health"); !strings.Contains(out, "primary_active") {
		t.Fatalf("health: %s", out)
	}
	c.p.Edit(t, "sources/source_mysql_acode/configuration.yaml", "port: "+strconv.Itoa(c.p.DB.Port), "port: 1")
	out, stderr, code := acode(t, c.p, "sync", "--source", "primary", "--json", scaleOutConnection)
	c.p.Edit(t, "sources/source_mysql_acode/configuration.yaml", "port: 1", "port: "+strconv.Itoa(c.p.DB.Port))
	var res struct {
		JobID  int64  `json:"job_id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code == 0 || res.JobID == 0 || res.Status != "failed" {
		t.Fatalf("sync --source primary on a dead primary: exit %d %v\n%s\n%s", code, err, out, stderr)
	}
	head := res.JobID
	worker := c.reps[2]
	if err := worker.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-worker.exited
	reps, err := c.st.Replicas(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dead := ""
	for _, r := range reps {
		if strings.HasSuffix(r.ID, ":"+strconv.Itoa(worker.cmd.Process.Pid)) {
			dead = r.ID
		}
	}
	if dead == "" {
		t.Fatalf("no replica row of the killed replica among %+v", reps)
	}
	if _, err := c.st.OpenRun(context.Background(), head, dead); err != nil {
		t.Fatal(err)
	}
	rest := c.others(worker)
	waitUntil(t, 90*time.Second, "a job continuing the failed primary's", func() bool {
		j, err := c.st.Job(context.Background(), head)
		return err == nil && j.ContinuedBy != 0
	})
	waitSucceeded(t, head, rest)
	chain, err := c.st.JobChain(context.Background(), head)
	if err != nil || len(chain) != 2 || chain[0].Status != state.JobFailed || chain[1].Source != "backup" || chain[1].Status != state.JobSucceeded {
		t.Fatalf("chain of job %d: %+v %v; want the failed primary's job continued by the backup's, succeeded", head, chain, err)
	}
	// The primary's layout (where the backup's snapshot was promoted)
	// holds every key of each stream once.
	checkEveryKeyOnce(t, c.p, filepath.Join(c.s3.Dir, c.p.Bucket), "bronze_acode", c.streams(), "in the primary's layout")
}
