package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/testenv"
)

// keptFiles counts the part files kept for the quality verdict under root.
func keptFiles(root string) int {
	n := 0
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasPrefix(filepath.Base(filepath.Dir(p)), "kept-") {
			n++
		}
		return nil
	})
	return n
}

// Repeated kill -9 of S3 syncs with quarantine on (part files kept on local
// disk until the verdict) leaves at most the last killed job's scratch dir:
// each next run removes the dead job's, `acode status` shows what is there,
// `acode serve` removes it at start, and nothing goes to the system temp dir.
func TestCLI_KilledS3SyncsLeaveNoScratchBehind(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 30000, s3)
	p.Settings(t, "chunk_rows: 1000", "file_size_mb: 1", "max_rows_per_second: 15000", "max_parallel_reads: 1")
	tmp := t.TempDir()
	p.Env["TMPDIR"] = tmp
	conn := "connection_mysql_s3_acode"
	dir := scratch.Dir{Root: filepath.Join(p.Dir, ".acode", "scratch")}

	var sizes []int64
	for kill := 1; kill <= 3; kill++ {
		cmd := exec.Command(acodeBin, "--config", p.Dir, "sync", conn)
		cmd.Env = p.Environ()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(90 * time.Second)
		for keptFiles(dir.Root) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if keptFiles(dir.Root) == 0 {
			t.Fatalf("kill %d: no part file was kept: the test did not kill the job mid-stream", kill)
		}
		jobs, err := dir.Jobs(conn)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 {
			t.Fatalf("kill %d: %d scratch dirs, want only the killed job's: %+v", kill, len(jobs), jobs)
		}
		sizes = append(sizes, jobs[0].Bytes)
	}
	t.Logf("scratch bytes after each kill: %v", sizes)

	out, stderr, code := acode(t, p, "status", "--json", conn)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	var rep struct {
		Pairs []struct {
			Scratch []scratch.JobDir `json:"scratch"`
		} `json:"pairs"`
	}
	err := json.Unmarshal([]byte(out), &rep)
	if st := rep.Pairs; err != nil || len(st) != 1 || len(st[0].Scratch) != 1 || st[0].Scratch[0].Bytes != sizes[2] {
		t.Errorf("status --json does not show the dead job's scratch dir of %d bytes (%v):\n%s", sizes[2], err, out)
	}
	if text, _, _ := acode(t, p, "status", conn); !strings.Contains(text, "scratch:") || !strings.Contains(text, dir.Root) {
		t.Errorf("status does not show the scratch dir:\n%s", text)
	}

	// The service removes what the dead job left as it starts, and spares
	// the dir of a job another process is running.
	p.PointBackup(t, p.DB)
	live := exec.Command(acodeBin, "--config", p.Dir, "sync", conn+"_backup")
	live.Env = p.Environ()
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for keptFiles(filepath.Join(dir.Root, conn+"_backup")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	sp := startServe(t, p)
	deadline = time.Now().Add(30 * time.Second)
	for {
		jobs, err := dir.Jobs(conn)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acode serve left the dead job's scratch dir: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(sp.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `acode_scratch_bytes{connection="`+conn+`_backup"}`) ||
		strings.Contains(string(body), `acode_scratch_bytes{connection="`+conn+`"}`) {
		t.Errorf("/metrics does not show the running job's scratch bytes alone:\n%s", grepLines(string(body), "scratch"))
	}
	if jobs, _ := dir.Jobs(conn + "_backup"); len(jobs) != 1 || live.ProcessState != nil {
		t.Errorf("the running job's scratch dir was not spared: %+v", jobs)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Errorf("the syncs wrote to the system temp dir: %v", entries)
	}
}
