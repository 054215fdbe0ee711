package cdc_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// startServe runs `acode serve` on a free port; as the only replica (SQLite
// state) it leads, so it runs the CDC connection's reader. Its S3
// destinations are on a test S3 server: the leader's monthly config backup
// goes there, not to the seed's bucket on AWS.
func startServe(t *testing.T, bin string, e *cdcEnv, env ...string) (*cdcProcess, string) {
	t.Helper()
	e.serveS3(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return startProcess(t, exec.Command(bin, "--config", e.project.Dir, "--log-format", "json", "serve", "--listen", addr),
		e, append([]string{"ACODE_API_USER=" + serveUser, "ACODE_API_PASSWORD=" + servePassword}, env...)...), "http://" + addr
}

// lineWith returns the first log line of p holding s.
func (p *cdcProcess) lineWith(s string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.log {
		if strings.Contains(l, s) {
			return l, true
		}
	}
	return "", false
}

// serveS3 points the project's S3 destinations at a test S3 server, once.
func (e *cdcEnv) serveS3(t *testing.T) {
	t.Helper()
	if e.project.S3 == nil {
		e.project.UseS3(t, testenv.StartS3(t))
	}
}

const serveUser, servePassword = "airflow", "serve-test-password"

// scrape returns the value of the /metrics sample whose name and labels
// are series, and whether it is there.
func scrape(t *testing.T, url, series string) (float64, bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.SetBasicAuth(serveUser, servePassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s: %s", resp.Status, body)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

func (p *cdcProcess) terminate(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitLog(t, "cdc reader stopped", 2*time.Minute) // it committed what it held
	if err := <-p.done; err != nil {
		t.Fatalf("acode serve after SIGTERM: %v", err)
	}
}

func TestAcodeServe_RunsTheCDCReaderAndContinuesFromItsCheckpointAfterARestart(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := newCDCEnv(t, "flush_interval: 1s")
	duck := testenv.DuckDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sp, _ := startServe(t, bin, e)
	sp.waitLog(t, "cdc reader starting", time.Minute)
	w := newWriter(t, e.primary, e.database)
	writes := make(chan error, 1)
	go func() { writes <- w.run(ctx, 300, 20*time.Millisecond) }()
	sp.waitLog(t, "cdc file committed", 2*time.Minute)
	// The leader's monthly care backs the config up into the test's
	// bucket; nothing reaches for the seed's bucket on AWS.
	poll(t, time.Minute, "the monthly config backup", func() bool { _, ok := sp.logged("monthly config backup"); return ok })
	if m, _ := sp.logged("monthly config backup"); !strings.HasPrefix(fmt.Sprint(m["location"]), "s3://"+e.project.Bucket+"/") {
		t.Errorf("monthly config backup went to %v, want the test's bucket %s", m["location"], e.project.Bucket)
	}
	sp.terminate(t) // while the writer goes on
	if l, ok := sp.lineWith("amazonaws.com"); ok {
		t.Errorf("acode serve reached for AWS: %s", l)
	}

	sp, url := startServe(t, bin, e)
	sp.waitLog(t, "cdc reader starting", time.Minute)
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	want := e.primaryPosition(t)
	st := e.state(t)
	poll(t, 3*time.Minute, "the change logs to reach "+want.String(), func() bool { return e.caughtUp(t, st, want) })
	checkReaderMetrics(t, url)
	sp.terminate(t)
	checkExactlyOnce(t, e, w, duck)
	checkNewestRows(t, e, duck)
	checkPartitionsClean(t, e)
}

// checkReaderMetrics asserts what /metrics tells of the running reader:
// the changes it landed, a recent checkpoint and a lag of a few seconds.
func checkReaderMetrics(t *testing.T, url string) {
	t.Helper()
	label := `{connection="` + cdcConnection + `"}`
	if n, ok := scrape(t, url, "acode_cdc_changes_total"+label); !ok || n <= 0 {
		t.Errorf("acode_cdc_changes_total: %v (present %v), want > 0 after the writer's changes", n, ok)
	}
	var at float64
	poll(t, time.Minute, "a checkpoint in /metrics", func() bool {
		var ok bool
		at, ok = scrape(t, url, "acode_cdc_last_checkpoint_timestamp_seconds"+label)
		return ok
	})
	if age := time.Since(time.Unix(int64(at), 0)); age < 0 || age > 5*time.Minute {
		t.Errorf("last checkpoint %s ago, want within the last minutes", age)
	}
	if lag, ok := scrape(t, url, "acode_cdc_lag_seconds"+label); !ok || lag < 0 || lag > 60 {
		t.Errorf("acode_cdc_lag_seconds %v (present %v), want 0-60 with flush_interval 1s", lag, ok)
	}
}
