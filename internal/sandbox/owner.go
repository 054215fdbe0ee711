package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sandboxes outlive the process that started them when it is killed (a
// test binary's timeout panic, a `timeout` wrapper, kill -9): pg_ctl
// daemonizes PostgreSQL, and a data directory stays on disk whatever
// happened to its server. So each sandbox records its owner (the pid and
// start time of the process that started it) in its directory, and is
// listed in one registry directory; every start of a sandbox first stops
// and removes those whose owner is dead. The start time tells a dead owner
// from a new process that got its pid.

// Registry is where sandboxes are listed: a symlink per sandbox, named
// <kind>-<owner pid>-<nanos>, pointing at its directory. It is fixed
// under /tmp (not TMPDIR) so processes with different temp dirs see each
// other's sandboxes.
var Registry = "/tmp/acode-sandboxes"

// ownerFile is the owner record in a sandbox directory: "pid starttime".
const ownerFile = "acode-owner"

// keepMarker in a sandbox directory says it outlives its owner (`acode
// bench --dir`): an orphan's server is stopped, its directory kept.
const keepMarker = "acode-keep"

const (
	kindPostgres = "postgres"
	kindMariaDB  = "mariadb"
)

// register records this process as dir's owner and lists dir in the
// registry. keep marks a directory to be kept when its owner dies.
func register(kind, dir string, keep bool) error {
	start, err := processStart(os.Getpid())
	if err != nil {
		return err
	}
	owner := fmt.Sprintf("%d %d\n", os.Getpid(), start)
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
		return fmt.Errorf("record the sandbox's owner: %w", err)
	}
	if keep {
		if err := os.WriteFile(filepath.Join(dir, keepMarker), nil, 0o644); err != nil {
			return fmt.Errorf("mark the sandbox dir kept: %w", err)
		}
	}
	if err := os.MkdirAll(Registry, 0o755); err != nil {
		return fmt.Errorf("create the sandbox registry: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	entry := filepath.Join(Registry, fmt.Sprintf("%s-%d-%d", kind, os.Getpid(), time.Now().UnixNano()))
	if err := os.Symlink(abs, entry); err != nil {
		return fmt.Errorf("list the sandbox in %s: %w", Registry, err)
	}
	return nil
}

// reapBeforeStart reaps orphans before a sandbox starts. A failure is
// told on stderr and does not hold up the new sandbox: the next start
// tries again.
func reapBeforeStart() {
	if _, err := ReapOrphans(); err != nil {
		fmt.Fprintf(os.Stderr, "acode sandbox: %v\n", err)
	}
}

// ReapOrphans stops the server of every listed sandbox whose owner is
// dead and removes its directory (unless kept); entries whose directory
// is gone are dropped. It returns the directories it reaped. Each start
// of a sandbox calls it; errors are joined, and one sandbox's failure
// does not stop the others'.
func ReapOrphans() ([]string, error) {
	entries, err := os.ReadDir(Registry)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the sandbox registry: %w", err)
	}
	var reaped []string
	var errs []error
	for _, e := range entries {
		dir, err := reapEntry(filepath.Join(Registry, e.Name()))
		if err != nil {
			errs = append(errs, err)
		}
		if dir != "" {
			reaped = append(reaped, dir)
		}
	}
	return reaped, errors.Join(errs...)
}

// reapEntry reaps one registry entry when its owner is dead, returning
// the directory it reaped.
func reapEntry(entry string) (string, error) {
	name := filepath.Base(entry)
	if i := strings.Index(name, ".reaping-"); i >= 0 {
		// Claimed by a reaper: leave it unless that reaper died too.
		if pid, err := strconv.Atoi(name[i+len(".reaping-"):]); err == nil && alive(pid) {
			return "", nil
		}
		name = name[:i]
	}
	dir, err := os.Readlink(entry)
	if err != nil {
		return "", nil // removed meanwhile
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		os.Remove(entry) // torn down by its owner
		return "", nil
	}
	pid, start, err := readOwner(dir)
	if err != nil || ownerAlive(pid, start) {
		return "", nil // being set up, or its owner still runs
	}
	// Claim it: of several processes reaping at once, one renames it.
	claimed := filepath.Join(Registry, name+".reaping-"+strconv.Itoa(os.Getpid()))
	if err := os.Rename(entry, claimed); err != nil {
		return "", nil
	}
	kind, _, _ := strings.Cut(name, "-")
	if err := stopOrphan(kind, dir); err != nil {
		os.Rename(claimed, entry) // the next start tries again
		return "", fmt.Errorf("stop the orphaned %s sandbox in %s (owner %d gone): %w", kind, dir, pid, err)
	}
	if _, err := os.Stat(filepath.Join(dir, keepMarker)); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			os.Rename(claimed, entry)
			return "", fmt.Errorf("remove the orphaned sandbox dir %s: %w", dir, err)
		}
	} else {
		os.Remove(filepath.Join(dir, ownerFile))
	}
	os.Remove(claimed)
	return dir, nil
}

// stopOrphan stops the server of a sandbox of kind in dir, found by its
// pid file and checked to be that server (its command line names dir).
func stopOrphan(kind, dir string) error {
	var pidFile string
	sig := syscall.SIGKILL // a sandbox holds nothing worth a clean shutdown
	switch kind {
	case kindPostgres:
		// SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes
		// its backends with it (SIGKILL would leave them running).
		pidFile, sig = filepath.Join(dir, "data", "postmaster.pid"), syscall.SIGQUIT
	case kindMariaDB:
		pidFile = filepath.Join(dir, "mariadbd.pid")
	default:
		return fmt.Errorf("unknown sandbox kind %q", kind)
	}
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // never started, or stopped
	}
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || !servesFrom(pid, dir) {
		return nil // a stale pid file: that server is gone
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for servesFrom(pid, dir) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return fmt.Errorf("server %d did not stop within 30s; killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// servesFrom reports whether process pid is alive and its command line
// names dir/data, both kinds' data directory (a server started on that directory, not a process that got
// its pid since).
func servesFrom(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(b), filepath.Join(dir, "data")+"\x00") {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && statState(string(st)) != "Z"
}

func readOwner(dir string) (pid int, start uint64, err error) {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscanf(string(b), "%d %d", &pid, &start); err != nil {
		return 0, 0, fmt.Errorf("owner record in %s: %w", dir, err)
	}
	return pid, start, nil
}

// ownerAlive reports whether process pid runs and started at start (so it
// is the owner, not a later process with its pid).
func ownerAlive(pid int, start uint64) bool {
	got, err := processStart(pid)
	return err == nil && got == start
}

func alive(pid int) bool {
	_, err := processStart(pid)
	return err == nil
}

// processStart is the start time of process pid (clock ticks since boot,
// /proc/<pid>/stat field 22); an error when there is no such live process.
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	s := string(b)
	if statState(s) == "Z" {
		return 0, fmt.Errorf("process %d: exited", pid)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return 0, fmt.Errorf("process %d: short stat", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64) // field 22, counting from the state (field 3)
}

// statState is the state letter of a /proc/<pid>/stat line.
func statState(stat string) string {
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}
