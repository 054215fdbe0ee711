package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Measurement is one timed run of one tool.
type Measurement struct {
	// Tool is mysqldump, acode_local or acode_s3.
	Tool    string  `json:"tool"`
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
	// RowsPerSec is Rows over wall Seconds.
	RowsPerSec float64 `json:"rows_per_s"`
	// OutputBytes is the Parquet acode wrote (mysqldump writes to /dev/null
	// directly, uncounted, so that counting costs it nothing).
	OutputBytes int64   `json:"output_bytes"`
	MBPerSec    float64 `json:"mb_per_s"`
	// PeakRSSMiB is the child's maximum resident set, from the kernel.
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// CPUSeconds is the child's user plus system CPU time.
	CPUSeconds float64 `json:"cpu_seconds"`
	// ServerCPUSeconds is the MySQL server's CPU time during the run, when
	// the server runs on this machine (0 otherwise): on a machine of few
	// cores, the server's and the tool's CPU together bound the speed.
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	// ServerBytesSent is what the MySQL server sent during the run (its
	// Bytes_sent), which the protocol's compression shrinks.
	ServerBytesSent int64 `json:"server_bytes_sent,omitempty"`
	// S3CPUSeconds is the S3 test server's CPU time during an S3 run.
	S3CPUSeconds float64 `json:"s3_server_cpu_seconds,omitempty"`
	// Ratio is this tool's rows/s over mysqldump's in the same run.
	Ratio float64 `json:"ratio_vs_mysqldump,omitempty"`
	// RatioCompressed is rows/s over `mysqldump --compress`'s, in --wan runs.
	RatioCompressed float64 `json:"ratio_vs_mysqldump_compress,omitempty"`
	// Load1 is the machine's one-minute load average when the run started:
	// other processes on the machine skew every figure.
	Load1 float64 `json:"load1"`
}

// child is a finished child process as the benchmark measured it.
type child struct {
	wall   time.Duration
	rssKiB int64
	cpu    time.Duration
	stdout []byte
}

// runChild runs cmd to its end and takes its wall time and rusage. stdout
// goes to w when set, else it is kept (it holds `acode sync --json`);
// stderr also goes to log when set.
func runChild(ctx context.Context, name string, args []string, env []string, w, log io.Writer) (child, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	if w != nil {
		cmd.Stdout = w
	}
	cmd.Stderr = &stderr
	if log != nil {
		cmd.Stderr = io.MultiWriter(&stderr, log)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return child{}, fmt.Errorf("%s: %w", name, err)
	}
	rss := followRSS(cmd.Process.Pid)
	err := cmd.Wait()
	c := child{wall: time.Since(start), stdout: stdout.Bytes(), rssKiB: rss.Stop()}
	if err != nil {
		return c, fmt.Errorf("%s: %w\n%s", name, err, tail(stderr.String(), 2000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		c.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return c, nil
}

func (c child) measurement(tool string, rows, bytes int64, load1 float64) Measurement {
	s := c.wall.Seconds()
	return Measurement{
		Tool: tool, Rows: rows, Seconds: s, RowsPerSec: float64(rows) / s,
		OutputBytes: bytes, MBPerSec: float64(bytes) / (1 << 20) / s,
		PeakRSSMiB: float64(c.rssKiB) / 1024, CPUSeconds: c.cpu.Seconds(), Load1: load1,
	}
}

// load1 is the one-minute load average, 0 when unknown.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

func tail(s string, n int) string {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}

func printHeader(out io.Writer) {
	fmt.Fprintf(out, "%-11s %-21s %9s %11s %9s %10s %9s %9s %8s %7s\n",
		"rows", "tool", "seconds", "rows/s", "MB/s", "rss_MiB", "cpu_s", "srv_cpu_s", "ratio", "load1")
}

func printRow(out io.Writer, n int, m Measurement) {
	ratio := "-"
	if m.Ratio > 0 {
		ratio = fmt.Sprintf("%.2fx", m.Ratio)
	}
	fmt.Fprintf(out, "%-11d %-21s %9.2f %11.0f %9.1f %10.1f %9.2f %9.2f %8s %7.2f",
		n, m.Tool, m.Seconds, m.RowsPerSec, m.MBPerSec, m.PeakRSSMiB, m.CPUSeconds, m.ServerCPUSeconds, ratio, m.Load1)
	if m.RatioCompressed > 0 {
		fmt.Fprintf(out, "  (%.2fx mysqldump --compress)", m.RatioCompressed)
	}
	if m.S3CPUSeconds > 0 {
		fmt.Fprintf(out, "  (S3 server: %.2f s CPU)", m.S3CPUSeconds)
	}
	fmt.Fprintln(out)
}
