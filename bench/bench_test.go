package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// buildAcode builds the real binary the benchmark runs as its child.
func buildAcode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "acode")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/acode")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRun_SmokePrintsComparableFigures runs the whole benchmark on a small
// table (sandbox MariaDB, mysqldump, acode to disk and to versitygw) and
// checks what a reader of its JSON line relies on.
func TestRun_SmokePrintsComparableFigures(t *testing.T) {
	testenv.SkipShort(t, "a MariaDB sandbox")
	bin := buildAcode(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	_, err := Run(ctx, Config{Rows: []int{20_000}, Binary: bin, S3: true, MeasureQuality: true, StatePostgres: true, Dir: dir, BufferPool: "256M",
		ProfileDir: filepath.Join(dir, "profiles")}, &out)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep Report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the JSON report: %v\n%s", err, out.String())
	}
	if rep.Cores < 1 || len(rep.Sizes) != 1 || rep.Sizes[0].Rows != 20_000 || rep.Sizes[0].TableBytes <= 0 {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Sizes[0].PostgresStateOverhead == nil || !strings.Contains(out.String(), "PostgreSQL state against SQLite state") {
		t.Errorf("no PostgreSQL state comparison in the report:\n%s", out.String())
	}
	tools := map[string]Measurement{}
	for _, m := range rep.Sizes[0].Runs {
		tools[m.Tool] = m
	}
	for _, name := range []string{"mysqldump", "acode_local", "acode_local_nocount", "acode_local_noquality", "acode_s3", "acode_local_pgstate"} {
		m, ok := tools[name]
		if !ok {
			t.Fatalf("no %s run in %+v", name, rep.Sizes[0].Runs)
		}
		if m.Rows != 20_000 || m.Seconds <= 0 || m.RowsPerSec <= 0 || m.CPUSeconds <= 0 || m.ServerCPUSeconds <= 0 {
			t.Errorf("%s: %+v", name, m)
		}
		// A child's peak RSS is at least a few MiB and, for 20k rows, far
		// below a GiB: a figure outside that is a unit mistake.
		if m.PeakRSSMiB < 2 || m.PeakRSSMiB > 1024 {
			t.Errorf("%s: peak RSS %.1f MiB", name, m.PeakRSSMiB)
		}
		if name != "mysqldump" && (m.OutputBytes < 100_000 || m.MBPerSec <= 0 || m.Ratio <= 0) {
			t.Errorf("%s: output %d bytes, %.2f MB/s, ratio %.2f", name, m.OutputBytes, m.MBPerSec, m.Ratio)
		}
	}
	// What each variant wrote is gone once it is measured: at 50M rows
	// each copy is about 5 GB.
	if _, err := os.Stat(filepath.Join(dir, "project-20000-local", "out")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the local sync's output is still there (stat: %v)", err)
	}
	_ = filepath.WalkDir(filepath.Join(dir, "s3"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".parquet") {
			t.Errorf("the S3 sync's output is still in the bucket: %s", path)
		}
		return nil
	})
	if tools["acode_s3"].S3CPUSeconds <= 0 {
		t.Errorf("S3 run without the S3 server's CPU: %+v", tools["acode_s3"])
	}
	for _, o := range []*Overhead{rep.Sizes[0].QualityOverhead, rep.Sizes[0].StatisticsOverhead} {
		if o == nil || o.Wall <= -1 || o.CPU <= -1 || !strings.Contains(out.String(), "statistics and rules add") {
			t.Errorf("quality overhead = %+v; want it measured and printed", o)
		}
	}
	for _, name := range []string{"cpu-acode_local.pprof", "cpu-acode_local_noquality.pprof", "mem-acode_s3.pprof"} {
		if st, err := os.Stat(filepath.Join(dir, "profiles", name)); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", name, err)
		}
	}
	// The debug log says when the stream finished uploading and how long
	// its commit took: where the time of an S3 sync goes.
	if log, err := os.ReadFile(filepath.Join(dir, "profiles", "log-acode_s3.txt")); err != nil ||
		!strings.Contains(string(log), "part stored") || !strings.Contains(string(log), "stream checked and published") {
		t.Errorf("sync log: %v\n%s", err, log)
	}
	if !strings.Contains(out.String(), "acode_local") || !strings.Contains(lines[0], "rows/s") {
		t.Errorf("no human-readable table:\n%s", out.String())
	}
}

// An S3 sync peaks at about the RSS of a local one: its uploads read
// their parts from the spool files instead of holding them in memory. With
// the transfer manager's part buffers (three 8 MiB buffers per upload plus
// the first part, two uploads per writer in flight) the S3 sync of these
// 500k rows peaked 55 MiB above the local one (177 against 122); the bound is the
// issue's peak RSS target too. No timing is asserted.
func TestRun_AnS3SyncPeaksAtAboutTheRSSOfALocalOne(t *testing.T) {
	testenv.SkipShort(t, "a MariaDB sandbox")
	bin := buildAcode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := Run(ctx, Config{Rows: []int{500_000}, Binary: bin, S3: true, Dir: t.TempDir(), BufferPool: "512M"}, &out)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	tools := map[string]Measurement{}
	for _, m := range rep.Sizes[0].Runs {
		tools[m.Tool] = m
	}
	local, s3 := tools["acode_local"], tools["acode_s3"]
	t.Logf("peak RSS: local %.1f MiB, S3 %.1f MiB", local.PeakRSSMiB, s3.PeakRSSMiB)
	const margin, target = 32, 256
	if local.PeakRSSMiB < 2 || s3.PeakRSSMiB > local.PeakRSSMiB+margin || s3.PeakRSSMiB > target {
		t.Errorf("peak RSS: S3 sync %.1f MiB, local %.1f MiB; want S3 within %d MiB of local and under %d MiB\n%s",
			s3.PeakRSSMiB, local.PeakRSSMiB, margin, target, out.String())
	}
}

// TestRun_WorkersSyncTheTableThroughThatManyServeReplicas: --workers 1,2
// syncs the table through one, then two `acode serve` on a PostgreSQL
// state, each run reported with every row and the replicas' figures.
func TestRun_WorkersSyncTheTableThroughThatManyServeReplicas(t *testing.T) {
	testenv.SkipShort(t, "a MariaDB sandbox")
	bin := buildAcode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := Run(ctx, Config{Rows: []int{20_000}, Binary: bin, Workers: []int{1, 2}, Dir: t.TempDir(), BufferPool: "256M",
		Settings: []string{"chunk_rows: 2000", "max_parallel_reads: 7"}}, &out)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	tools := map[string]Measurement{}
	for _, m := range rep.Sizes[0].Runs {
		tools[m.Tool] = m
	}
	for _, name := range []string{"acode_local_serve_x1", "acode_local_serve_x2"} {
		m, ok := tools[name]
		if !ok || m.Rows != 20_000 || m.RowsPerSec <= 0 || m.CPUSeconds <= 0 || m.PeakRSSMiB < 2 || m.OutputBytes < 100_000 {
			t.Errorf("%s: %+v (found %v)\n%s", name, m, ok, out.String())
		}
	}
}

func TestRun_RejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Binary: "acode"}, {Rows: []int{0}, Binary: "acode"}, {Rows: []int{10}}, {Rows: []int{10}, Binary: "acode", Workers: []int{0}}} {
		if _, err := Run(context.Background(), cfg, &bytes.Buffer{}); err == nil {
			t.Errorf("Run(%+v) succeeded", cfg)
		}
	}
}

func TestWithDefaults_BufferPoolHoldsTheTableWithinHalfTheMemory(t *testing.T) {
	t.Parallel()
	small, err := withDefaults(Config{Rows: []int{1000}, Binary: "acode"})
	if err != nil || small.BufferPool != "2048M" || small.Database != "acode_bench" || small.Repeat != 1 {
		t.Errorf("defaults for 1000 rows: %+v, %v", small, err)
	}
	huge, err := withDefaults(Config{Rows: []int{5, 1_000_000_000, 7}, Binary: "acode"})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%dM", max(2048, memTotal()/2>>20)); memTotal() > 0 && huge.BufferPool != want {
		t.Errorf("buffer pool for 1e9 rows = %s, want half the memory %s", huge.BufferPool, want)
	}
	if huge.Rows[0] != 5 || huge.Rows[2] != 1_000_000_000 {
		t.Errorf("sizes not sorted: %v", huge.Rows)
	}
}
