package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/acode-dev/acode/internal/sandbox"
)

// The API user of the benchmark's `acode serve` replicas.
const (
	serveUser = "bench"
	servePass = "bench-password"
)

// measureWorkers times, for each count w of cfg.Workers, a sync of the
// table by w `acode serve` replicas on one PostgreSQL state whose range
// workers share the table's ranges within a source budget of w
// (max_parallel_reads: w): w range reads at once, over w processes. The
// wall time runs from the Airbyte API's connections/sync to the job's
// succeeded; CPU and peak RSS are the replicas' together.
func measureWorkers(ctx context.Context, cfg Config, src *source, s3 *s3Server, pg *sandbox.Postgres, dir string, n int, dump Measurement, sr *SizeRuns, out io.Writer) error {
	dest := "local"
	if s3 != nil {
		dest = "s3"
	}
	settings := slices.DeleteFunc(slices.Clone(cfg.Settings), func(l string) bool {
		return strings.HasPrefix(strings.TrimSpace(l), "max_parallel_reads:")
	})
	for _, w := range cfg.Workers {
		p, err := writeProject(filepath.Join(dir, fmt.Sprintf("project-%d-workers-%d", n, w)), src, s3, dest,
			append(settings, fmt.Sprintf("max_parallel_reads: %d", w)), qualityOn, false)
		if err != nil {
			return err
		}
		if err := p.usePostgresState(ctx, pg, fmt.Sprintf("bench_workers_%d_%d", n, w)); err != nil {
			return err
		}
		p.tool = fmt.Sprintf("acode_%s_serve_x%d", dest, w)
		run := func() (Measurement, error) { return p.serveSync(ctx, cfg, w) }
		if s3 != nil {
			run = s3.timed(run)
		}
		m, err := best(cfg.Repeat, func() (Measurement, error) { return src.timed(ctx, run) })
		if err != nil {
			return err
		}
		m.Ratio = m.RowsPerSec / dump.RowsPerSec
		sr.Runs = append(sr.Runs, m)
		printRow(out, n, m)
	}
	return nil
}

// serveProc is one `acode serve` replica of a workers run.
type serveProc struct {
	cmd    *exec.Cmd
	url    string
	done   chan struct{}
	rssKiB int64 // the peak resident set, once done is closed
}

// serveSync starts replicas `acode serve` on p, syncs the bench connection
// through the first one's Airbyte API and stops them all.
func (p *project) serveSync(ctx context.Context, cfg Config, replicas int) (Measurement, error) {
	env := append(slices.Clone(p.env), cfg.ChildEnv...)
	env = append(env, "ACODE_API_USER="+serveUser, "ACODE_API_PASSWORD="+servePass)
	var procs []*serveProc
	defer func() {
		for _, sp := range procs {
			sp.stop()
		}
	}()
	for i := range replicas {
		sp, err := p.startServe(ctx, cfg, env, filepath.Join(p.dir, fmt.Sprintf("serve-%d.log", i+1)))
		if err != nil {
			return Measurement{}, err
		}
		procs = append(procs, sp)
	}
	l := load1()
	start := time.Now()
	var job struct {
		Job struct {
			ID int64 `json:"id"`
		} `json:"job"`
	}
	if err := call(ctx, http.MethodPost, procs[0].url+"/api/v1/connections/sync", map[string]string{"connectionId": benchConnection}, &job); err != nil {
		return Measurement{}, err
	}
	var view struct {
		Status string `json:"status"`
		Rows   int64  `json:"rows"`
		Bytes  int64  `json:"bytes"`
		Error  string `json:"error"`
	}
	for view.Status != "succeeded" {
		if view.Status == "failed" || view.Status == "cancelled" {
			return Measurement{}, fmt.Errorf("job %d ended %s: %s (logs in %s)", job.Job.ID, view.Status, view.Error, p.dir)
		}
		select {
		case <-ctx.Done():
			return Measurement{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if err := call(ctx, http.MethodGet, procs[0].url+"/api/acode/jobs/"+strconv.FormatInt(job.Job.ID, 10), nil, &view); err != nil {
			return Measurement{}, err
		}
	}
	wall := time.Since(start)
	c := child{wall: wall}
	for _, sp := range procs {
		sp.stop()
		c.rssKiB = max(c.rssKiB, sp.rssKiB)
		if ru, ok := sp.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			c.cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return c.measurement(p.tool, view.Rows, view.Bytes, l), nil
}

// startServe starts one replica on a free loopback port and waits until
// its health endpoint answers.
func (p *project) startServe(ctx context.Context, cfg Config, env []string, logPath string) (*serveProc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	name, args := p.src.command(cfg.Binary, []string{"--config", p.dir, "--log-level", "info", "serve", "--listen", addr})
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start acode serve: %w", err)
	}
	sp := &serveProc{cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	rss := followRSS(cmd.Process.Pid)
	go func() { _ = cmd.Wait(); sp.rssKiB = rss.Stop(); close(sp.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var health map[string]any
		if call(ctx, http.MethodGet, sp.url+"/api/v1/health", nil, &health) == nil {
			return sp, nil
		}
		select {
		case <-sp.done:
			return nil, fmt.Errorf("acode serve exited at start; its log is %s", logPath)
		case <-ctx.Done():
			sp.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			sp.stop()
			return nil, fmt.Errorf("acode serve did not answer within 60 s; its log is %s", logPath)
		}
	}
}

// stop sends SIGTERM, SIGKILL after 20 s, and waits for the exit.
func (sp *serveProc) stop() {
	select {
	case <-sp.done:
		return
	default:
	}
	_ = sp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-sp.done:
	case <-time.After(20 * time.Second):
		_ = sp.cmd.Process.Kill()
		<-sp.done
	}
}

// call makes one request with the bench user's basic auth and decodes the
// JSON answer into out.
func call(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(serveUser, servePass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, url, resp.StatusCode, tail(string(raw), 500))
	}
	return json.Unmarshal(raw, out)
}
