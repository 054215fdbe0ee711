package hadrill

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
	"strconv"
	"syscall"
	"time"
)

// replica is one `acode serve` child process of the drill.
type replica struct {
	name   string
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
	auth   [2]string
}

// startReplica starts exe serve on a free loopback port, its log in dir,
// and returns once its health endpoint answers.
func startReplica(ctx context.Context, exe, project, dir, name string, env []string, auth [2]string) (*replica, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	defer log.Close() // the child holds its own descriptor
	cmd := exec.Command(exe, "--config", project, "serve", "--listen", addr)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a Ctrl-C of the drill does not reach it first;
	// the drill stops it itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	r := &replica{name: name, url: "http://" + addr, cmd: cmd, exited: make(chan struct{}), auth: auth}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	err = poll(ctx, 60*time.Second, name+" to answer /api/v1/health", func() bool {
		select {
		case <-r.exited:
			return true
		default:
		}
		resp, err := http.Get(r.url + "/api/v1/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err == nil && r.gone() {
		err = fmt.Errorf("%s exited at start; its log is %s", name, log.Name())
	}
	if err != nil {
		r.kill()
		return nil, err
	}
	return r, nil
}

func (r *replica) pid() int { return r.cmd.Process.Pid }

func (r *replica) gone() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits until the process is reaped.
func (r *replica) kill() {
	if !r.gone() {
		_ = r.cmd.Process.Kill()
	}
	<-r.exited
}

// stop sends SIGTERM, and SIGKILL after grace.
func (r *replica) stop(grace time.Duration) {
	if r.gone() {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(grace):
		r.kill()
	}
}

// clusterView is the part of GET /api/acode/cluster the drill reads.
type clusterView struct {
	Self     string `json:"self"`
	Leader   string `json:"leader"`
	Replicas []struct {
		ID string `json:"id"`
	} `json:"replicas"`
}

func (r *replica) cluster(ctx context.Context) (clusterView, error) {
	var v clusterView
	err := r.call(ctx, http.MethodGet, "/api/acode/cluster", nil, &v)
	return v, err
}

// job is the part of a job answer of the Airbyte API the drill reads.
type job struct {
	Job struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"job"`
}

func (r *replica) sync(ctx context.Context, connection string) (job, error) {
	var j job
	err := r.call(ctx, http.MethodPost, "/api/v1/connections/sync", map[string]string{"connectionId": connection}, &j)
	return j, err
}

func (r *replica) job(ctx context.Context, id int64) (job, error) {
	var j job
	err := r.call(ctx, http.MethodPost, "/api/v1/jobs/get", map[string]int64{"id": id}, &j)
	return j, err
}

// call makes one authenticated JSON request and decodes the answer into out.
func (r *replica) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(r.auth[0], r.auth[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", method, path, r.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s on %s: HTTP %d", method, path, r.name, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s on %s: decode answer: %w", method, path, r.name, err)
	}
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// poll calls cond every 200 ms until it holds, ctx ends or limit passes.
func poll(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}
