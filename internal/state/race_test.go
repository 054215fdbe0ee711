package state

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// The concurrency tests re-execute this test binary as a second acode-like
// process: TestMain runs the helper instead of the tests when told to.
const helperEnv = "ACODE_STATE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	testenv.Main(m)
}

// runHelper is the child process. "race": wait for the go file, open the
// store and try to create a job, print the outcome. "hold": create a job and
// heartbeat it until killed.
func runHelper(mode string) int {
	ctx := context.Background()
	path, conn := os.Getenv("ACODE_STATE_DB"), os.Getenv("ACODE_STATE_CONN")
	lease, _ := time.ParseDuration(os.Getenv("ACODE_STATE_LEASE"))
	switch mode {
	case "race":
		fmt.Println("ready")
		if err := waitForFile(os.Getenv("ACODE_STATE_GO"), 30*time.Second); err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println(raceOnce(ctx, path, conn))
		return 0
	case "hold":
		s, err := Open(ctx, path, WithLease(lease))
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		j, err := s.CreateJob(ctx, conn, "primary", DefaultOwner())
		if err == nil {
			_, err = s.StartAttempt(ctx, j.ID)
		}
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("won", j.ID)
		deadline := time.Now().Add(30 * time.Second) // never outlive a crashed parent for long
		for time.Now().Before(deadline) {
			time.Sleep(lease / 10)
			if err := s.Heartbeat(ctx, j.ID); err != nil {
				return 1
			}
		}
		return 0
	case "queue":
		return queueWriters(ctx, path)
	}
	fmt.Println("error unknown helper mode", mode)
	return 2
}

// raceOnce opens its own Store on path and tries to create a job, reporting
// "won <id>", "busy <holder id>" or "error <text>".
func raceOnce(ctx context.Context, path, conn string) string {
	s, err := Open(ctx, path)
	if err != nil {
		return "error " + err.Error()
	}
	defer s.Close()
	j, err := s.CreateJob(ctx, conn, "primary", DefaultOwner())
	var busy *AlreadyRunningError
	switch {
	case err == nil:
		return fmt.Sprintf("won %d", j.ID)
	case errors.As(err, &busy):
		return fmt.Sprintf("busy %d", busy.JobID)
	default:
		return "error " + err.Error()
	}
}

func waitForFile(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("timed out waiting for %s", path)
}

// helper starts this binary in mode and returns it with its stdout lines.
func helper(t *testing.T, mode string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper process: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewScanner(out)
}

func TestCreateJob_RacingProcessesAndStoresExactlyOneWins(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		const procs, goroutines, rounds = 3, 3, 3
		for round := 0; round < rounds; round++ {
			dir := t.TempDir()
			path := bk.fresh(t) // not yet created: Open and migrations race too
			goFile := filepath.Join(dir, "go")
			env := []string{"ACODE_STATE_DB=" + path, "ACODE_STATE_CONN=conn", "ACODE_STATE_GO=" + goFile}

			var outs []*bufio.Scanner
			for i := 0; i < procs; i++ {
				_, out := helper(t, "race", env...)
				if !out.Scan() || out.Text() != "ready" {
					t.Fatalf("helper did not start: %q %v", out.Text(), out.Err())
				}
				outs = append(outs, out)
			}
			results := make([]string, goroutines, goroutines+procs)
			var wg sync.WaitGroup
			for i := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := waitForFile(goFile, 30*time.Second); err != nil {
						results[i] = "error " + err.Error()
						return
					}
					results[i] = raceOnce(context.Background(), path, "conn")
				}()
			}
			if err := os.WriteFile(goFile, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			for _, out := range outs {
				if !out.Scan() {
					t.Fatalf("helper gave no result: %v", out.Err())
				}
				results = append(results, out.Text())
			}

			var winners []string
			for _, r := range results {
				switch {
				case strings.HasPrefix(r, "won "):
					winners = append(winners, strings.TrimPrefix(r, "won "))
				case strings.HasPrefix(r, "busy "):
				default:
					t.Errorf("round %d: a contender failed instead of winning or seeing the job: %s", round, r)
				}
			}
			if len(winners) != 1 {
				t.Fatalf("round %d: %d winners (%v), want exactly 1; results %v", round, len(winners), winners, results)
			}
			for _, r := range results {
				if strings.HasPrefix(r, "busy ") && r != "busy "+winners[0] {
					t.Errorf("round %d: loser saw %q, want the winner's job %s", round, r, winners[0])
				}
			}
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := s.ListJobs(context.Background(), JobFilter{Connection: "conn"})
			s.Close()
			if err != nil || len(jobs) != 1 || strconv.FormatInt(jobs[0].ID, 10) != winners[0] {
				t.Errorf("round %d: jobs in the file = %+v, %v; want only job %s", round, jobs, err, winners[0])
			}
		}
	})
}

func TestCreateJob_KilledOwnerIsDetectedAfterLease(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		const lease = time.Second
		path := bk.fresh(t)
		child, out := helper(t, "hold", "ACODE_STATE_DB="+path, "ACODE_STATE_CONN=conn", "ACODE_STATE_LEASE="+lease.String())
		if !out.Scan() || !strings.HasPrefix(out.Text(), "won ") {
			t.Fatalf("holder did not get the job: %q %v", out.Text(), out.Err())
		}
		heldID, _ := strconv.ParseInt(strings.TrimPrefix(out.Text(), "won "), 10, 64)

		s, err := Open(ctx, path, WithLease(lease))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()

		// Alive and heartbeating: still held after more than one lease.
		time.Sleep(lease + 300*time.Millisecond)
		var busy *AlreadyRunningError
		if _, err := s.CreateJob(ctx, "conn", "primary", DefaultOwner()); !errors.As(err, &busy) {
			t.Fatalf("CreateJob while the holder heartbeats: err = %v, want *AlreadyRunningError", err)
		}
		wantOwner := ":" + strconv.Itoa(child.Process.Pid)
		if busy.JobID != heldID || !strings.HasSuffix(busy.Owner, wantOwner) {
			t.Errorf("AlreadyRunningError = %+v, want job %d owned by pid %d", busy, heldID, child.Process.Pid)
		}

		// kill -9: no cleanup runs in the holder.
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		killed := time.Now()

		var next Job
		for {
			next, err = s.CreateJob(ctx, "conn", "primary", DefaultOwner())
			if err == nil {
				break
			}
			if !errors.As(err, &busy) {
				t.Fatalf("CreateJob after kill: %v", err)
			}
			if time.Since(killed) > 5*lease {
				t.Fatalf("killed holder's job still blocks the connection %v after the kill", time.Since(killed))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if next.ID == heldID {
			t.Fatal("new job reused the dead job's id")
		}
		old, err := s.Job(ctx, heldID)
		if err != nil {
			t.Fatal(err)
		}
		if old.Status != JobFailed || !strings.HasPrefix(old.Error, "abandoned: owner ") || !strings.Contains(old.Error, wantOwner) {
			t.Errorf("dead job = %s %q, want failed as abandoned by pid %d", old.Status, old.Error, child.Process.Pid)
		}
	})
}

func TestStore_TwoStoresWritingAtOnceNeverSeeBusy(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		path := bk.fresh(t)
		a, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()

		const writers, ops = 4, 40
		errs := make(chan error, 2*writers)
		var wg sync.WaitGroup
		for w := range 2 * writers {
			s := a
			if w%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				j, err := s.CreateJob(ctx, fmt.Sprintf("conn%d", w), "primary", "h:1")
				if err != nil {
					errs <- err
					return
				}
				for i := range ops {
					part := Part{JobID: j.ID, Stream: "s", Key: fmt.Sprintf("k%d", i), Ranges: []int{i}, Rows: 1}
					if err := s.RecordPart(ctx, part); err != nil {
						errs <- err
						return
					}
					if err := s.AddJobTotals(ctx, j.ID, 1, 10); err != nil {
						errs <- err
						return
					}
					if _, err := s.StartAttempt(ctx, j.ID); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent write failed: %v", err)
		}
		jobs, err := a.ListJobs(ctx, JobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 2*writers {
			t.Fatalf("%d jobs, want %d", len(jobs), 2*writers)
		}
		for _, j := range jobs {
			if j.Rows != ops {
				t.Errorf("job %d rows = %d, want %d (a lost update)", j.ID, j.Rows, ops)
			}
		}
	})
}
