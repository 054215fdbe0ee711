package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

const (
	serveUser = "airflow"
	servePass = "Serve-Api-Pa55"
)

// serveProcess is `acode serve` running as a child process.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *logBuffer
	exited chan error
}

// logBuffer is a child's stderr that a test may read while the child
// writes it (exec copies into it from its own goroutine).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs the real binary (serve's flags extra appended) and waits
// until its API answers.
// monthlyCareDone records this month's monthly care as done in p's state
// store: a test without an S3 server is not about the config backup (the
// monthly care's tests have one), and its leader then tries none: the
// seed's S3 destinations have no server to back up into.
func monthlyCareDone(t *testing.T, p *testenv.Project) {
	t.Helper()
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		return // serve says what is wrong
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	slot := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	last, err := st.ScheduleFire(ctx, monthlyCareSchedule)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		t.Fatal(err)
	}
	if last.Before(slot) {
		if _, err := st.ClaimScheduleFire(ctx, monthlyCareSchedule, last, slot); err != nil {
			t.Fatal(err)
		}
	}
}

func startServe(t *testing.T, p *testenv.Project, extra ...string) *serveProcess {
	t.Helper()
	if p.S3 == nil {
		monthlyCareDone(t, p)
	}
	addr := freeAddr(t)
	cmd := exec.Command(acodeBin, append([]string{"--config", p.Dir, "serve", "--listen", addr}, extra...)...)
	cmd.Env = append(p.Environ(), "ACODE_API_USER="+serveUser, "ACODE_API_PASSWORD="+servePass)
	sp := &serveProcess{cmd: cmd, url: "http://" + addr, stderr: &logBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = sp.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{}) // closed once Wait has reaped the child (ProcessState is Wait's to write)
	go func() {
		err := cmd.Wait()
		close(waited)
		sp.exited <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // os.ErrProcessDone when it has exited already
		<-waited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(sp.url + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return sp
			}
		}
		select {
		case err := <-sp.exited:
			t.Fatalf("acode serve exited (%v):\n%s", err, sp.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("acode serve did not answer in 15s:\n%s", sp.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// post makes a config API call as Airflow's provider does.
func (sp *serveProcess) post(t *testing.T, endpoint string, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, sp.url+"/api/v1/"+endpoint, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(serveUser, servePass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if strings.Contains(string(raw), servePass) || strings.Contains(string(raw), testenv.ProjectPassword) {
		t.Errorf("response holds a secret: %s", raw)
	}
	return resp.StatusCode, out
}

func jobField(v map[string]any, key string) any {
	job, _ := v["job"].(map[string]any)
	return job[key]
}

func TestServe_AirflowSyncThenSIGTERMCancelsTheRunningJobAndExitsCleanly(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 600, nil)
	p.Settings(t, "chunk_rows: 200", "max_parallel_reads: 1", "parallel_streams: 1", "max_rows_per_second: 1500")
	f, err := os.OpenFile(filepath.Join(p.Dir, "acode.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "serve:\n  shutdown_grace: 0s\n  job_attempts: 1\n")
	f.Close()
	sp := startServe(t, p)

	// AirbyteTriggerSyncOperator, then AirbyteJobSensor until succeeded.
	code, job := sp.post(t, "connections/sync", map[string]string{"connectionId": "connection_mysql_local_acode"})
	if code != http.StatusOK {
		t.Fatalf("connections/sync: %d %v", code, job)
	}
	id := int64(jobField(job, "id").(float64))
	deadline := time.Now().Add(60 * time.Second)
	for status := ""; status != "succeeded"; {
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s after 60s:\n%s", id, status, sp.stderr)
		}
		time.Sleep(200 * time.Millisecond)
		_, got := sp.post(t, "jobs/get", map[string]int64{"id": id})
		status, _ = jobField(got, "status").(string)
		if status == "failed" || status == "cancelled" {
			t.Fatalf("job %d %s:\n%s", id, status, sp.stderr)
		}
	}

	// A second job is running when the service is told to stop (a job
	// still queued would stay queued for the next start, so the test waits
	// until the runner has taken it).
	_, job = sp.post(t, "connections/sync", map[string]string{"connectionId": "connection_mysql_local_acode"})
	second := int64(jobField(job, "id").(float64))
	deadline = time.Now().Add(30 * time.Second)
	for status := ""; status != "running"; {
		if time.Now().After(deadline) || status == "succeeded" || status == "failed" {
			t.Fatalf("job %d %q, never seen running (throttled to about 1.5 s):\n%s", second, status, sp.stderr)
		}
		time.Sleep(10 * time.Millisecond)
		_, got := sp.post(t, "jobs/get", map[string]int64{"id": second})
		status, _ = jobField(got, "status").(string)
	}
	if err := sp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sp.exited:
		if err != nil {
			t.Fatalf("acode serve exited with %v after SIGTERM, want 0:\n%s", err, sp.stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("acode serve still running 40s after SIGTERM:\n%s", sp.stderr)
	}
	if strings.Contains(sp.stderr.String(), servePass) || strings.Contains(sp.stderr.String(), testenv.ProjectPassword) {
		t.Errorf("the log holds a secret:\n%s", sp.stderr)
	}

	st, err := state.Open(context.Background(), filepath.Join(p.Dir, ".acode", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, want := range []struct {
		id     int64
		status state.JobStatus
	}{{id, state.JobSucceeded}, {second, state.JobCancelled}} {
		j, err := st.Job(context.Background(), want.id)
		if err != nil || j.Status != want.status {
			t.Errorf("job %d: %s %v, want %s", want.id, j.Status, err, want.status)
		}
	}
}

func TestServe_RefusesToStartWithoutCredentials(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 10, nil)
	cmd := exec.Command(acodeBin, "--config", p.Dir, "serve", "--listen", freeAddr(t))
	cmd.Env = p.Environ() // no ACODE_API_USER / ACODE_API_PASSWORD
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitConfig || !strings.Contains(string(out), "ACODE_API_PASSWORD") {
		t.Errorf("serve without credentials: %v\n%s\nwant exit %d naming ACODE_API_PASSWORD", err, out, exitConfig)
	}
}
