package state

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestCreateJob_OwnerProcessGoneTakesOverAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		st := bk.open(t)
		host, _ := os.Hostname()

		// A live owner on this host (ourselves as seen from another process)
		// holds the connection.
		alive := exec.Command("sleep", "30")
		if err := alive.Start(); err != nil {
			t.Fatal(err)
		}
		defer alive.Process.Kill()
		if _, err := st.CreateJob(ctx, "c-alive", "primary", host+":"+strconv.Itoa(alive.Process.Pid)); err != nil {
			t.Fatal(err)
		}
		var busy *AlreadyRunningError
		if _, err := st.CreateJob(ctx, "c-alive", "primary", "other:1"); !errors.As(err, &busy) {
			t.Fatalf("live owner: want AlreadyRunningError, got %v", err)
		}

		// An owner that exited (kill -9) does not hold it until the lease ends.
		dead := exec.Command("true")
		if err := dead.Run(); err != nil {
			t.Fatal(err)
		}
		first, err := st.CreateJob(ctx, "c-dead", "primary", host+":"+strconv.Itoa(dead.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateJob(ctx, "c-dead", "primary", "other:1"); err != nil {
			t.Fatalf("dead owner still holds the connection: %v", err)
		}
		old, err := st.Job(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if old.Status != JobFailed {
			t.Errorf("the dead owner's job is %s, want failed", old.Status)
		}
	})
}
