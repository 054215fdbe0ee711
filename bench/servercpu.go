package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat times: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// serverCPU is the MySQL server process's CPU time so far, when the server
// runs on this machine and its pid is known: what the server spends sending
// a tool its rows is the other half of the machine's work, and on a small
// machine the two compete for the same cores.
func (s *source) serverCPU(ctx context.Context) (time.Duration, bool) {
	pid := s.serverPID(ctx)
	if pid == "" {
		return 0, false
	}
	return procCPU(pid)
}

// procCPU is process pid's CPU time so far, from /proc.
func procCPU(pid string) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which may hold spaces, inside
	// parentheses): utime and stime are the 12th and 13th.
	text := string(b)
	fields := strings.Fields(text[strings.LastIndexByte(text, ')')+1:])
	if len(fields) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+st) * time.Second / clockTicks, true
}

// serverPID reads the server's pid file; empty when it is not readable here
// (a remote server, or one whose pid file this user cannot read).
func (s *source) serverPID(ctx context.Context) string {
	var path string
	if err := s.root.QueryRowContext(ctx, "SELECT @@pid_file").Scan(&path); err != nil {
		return ""
	}
	if !strings.HasPrefix(path, "/") {
		return "" // relative to a data dir we do not know
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// timed runs one tool's measurement and adds the server's CPU time and the
// bytes it sent during it.
func (s *source) timed(ctx context.Context, run func() (Measurement, error)) (Measurement, error) {
	sent, ok := s.bytesSent(ctx)
	m, cpu, err := cpuDuring(func() (time.Duration, bool) { return s.serverCPU(ctx) }, run)
	m.ServerCPUSeconds = cpu
	if after, ok2 := s.bytesSent(ctx); ok && ok2 && err == nil {
		m.ServerBytesSent = after - sent
	}
	return m, err
}

// bytesSent is the server's Bytes_sent so far: what crossed the network,
// after the protocol's compression when a client asked for it.
func (s *source) bytesSent(ctx context.Context) (int64, bool) {
	var name string
	var n int64
	if err := s.root.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Bytes_sent'").Scan(&name, &n); err != nil {
		return 0, false
	}
	return n, true
}

// cpuDuring runs run and returns the seconds of CPU that cpu (a server
// process's total so far) grew by meanwhile; 0 when unknown.
func cpuDuring(cpu func() (time.Duration, bool), run func() (Measurement, error)) (Measurement, float64, error) {
	before, ok := cpu()
	m, err := run()
	if after, ok2 := cpu(); ok && ok2 && err == nil {
		return m, (after - before).Seconds(), nil
	}
	return m, 0, err
}
