package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// childEnv makes the test binary a child that starts a PostgreSQL and a
// MariaDB sandbox, prints where, and waits to be killed.
const childEnv = "ACODE_SANDBOX_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func runChild() int {
	pgDir, err := os.MkdirTemp("/tmp", "acode-pg-")
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	pg, err := StartPostgres(pgDir)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	mDir, err := os.MkdirTemp("", "acode-mariadb-")
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	m, err := Start(mDir, Options{})
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	fmt.Println("READY", pg.Dir, postmasterPid(pg.Dir), m.Dir, m.proc.cmd.Process.Pid)
	select {} // until killed
}

func postmasterPid(dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(first)
	return pid
}

// A process killed with kill -9 runs no cleanup: its PostgreSQL cluster
// (daemonized by pg_ctl) goes on running and both sandbox dirs stay. The
// next sandbox started, by any process, stops the orphan's server and
// removes its dirs, and leaves the sandboxes of live processes alone.
func TestStart_AKilledProcessesSandboxesAreStoppedAndRemovedByTheNextStart(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL and MariaDB; skipped with -short")
	}
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	mine, err := Start(t.TempDir(), Options{}) // a live owner's sandbox
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1")
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "READY ") {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}
	var pgDir, mDir string
	var pgPid, mPid int
	if _, err := fmt.Sscanf(line, "READY %s %d %s %d", &pgDir, &pgPid, &mDir, &mPid); err != nil {
		t.Fatalf("child's line %q: %v", line, err)
	}
	// Whatever happens below, nothing of the child's outlives the test.
	t.Cleanup(func() {
		syscall.Kill(pgPid, syscall.SIGQUIT)
		os.RemoveAll(pgDir)
		os.RemoveAll(mDir)
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	if servesFrom(pgPid, pgDir) {
		t.Logf("after kill -9 of its owner, PostgreSQL %d still runs in %s", pgPid, pgDir)
	}

	// The next sandbox start reaps the orphans (another process's start
	// may have done it first: the outcome is the same).
	next, err := os.MkdirTemp("/tmp", "acode-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := StartPostgres(next)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Stop(); os.RemoveAll(next) })
	if servesFrom(pgPid, pgDir) {
		t.Errorf("the orphaned PostgreSQL %d still runs in %s after the next start", pgPid, pgDir)
	}
	if servesFrom(mPid, mDir) {
		t.Errorf("the orphaned mariadbd %d still runs in %s after the next start", mPid, mDir)
	}
	for _, d := range []string{pgDir, mDir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("the orphan's sandbox dir %s is still there (%v)", d, err)
		}
	}
	if db, err := mine.Root(); err != nil || db.Ping() != nil {
		t.Errorf("the live process's own sandbox was touched by the reaping: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mine.Dir, ownerFile)); err != nil {
		t.Errorf("the live sandbox lost its owner record: %v", err)
	}
}

// An owner record whose pid now belongs to another process (a different
// start time) is a dead owner: the start time, not the pid alone, names
// the owner.
func TestReapOrphans_APidReusedByAnotherProcessIsADeadOwner(t *testing.T) {
	dir := t.TempDir()
	reg := t.TempDir()
	saved := Registry
	Registry = reg
	t.Cleanup(func() { Registry = saved })
	if err := register(kindMariaDB, dir, false); err != nil {
		t.Fatal(err)
	}
	if reaped, err := ReapOrphans(); err != nil || len(reaped) != 0 {
		t.Fatalf("reaped %v (%v) while the owner runs", reaped, err)
	}
	start, _ := processStart(os.Getpid())
	owner := fmt.Sprintf("%d %d\n", os.Getpid(), start+1) // this pid, another start
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
		t.Fatal(err)
	}
	reaped, err := ReapOrphans()
	if err != nil || len(reaped) != 1 || reaped[0] != dir {
		t.Fatalf("reaped %v (%v), want %s", reaped, err, dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there (%v)", dir, err)
	}
	if left, _ := os.ReadDir(reg); len(left) != 0 {
		t.Errorf("registry entries left: %v", left)
	}
}
