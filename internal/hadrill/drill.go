package hadrill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/state"
)

// Limits of the drill's waits: generous, since a loaded machine is slow;
// the targets (20 s, 60 s) are what the printed times are judged by.
const (
	leaderLimit   = 90 * time.Second
	takeoverLimit = 3 * time.Minute
	syncLimit     = 5 * time.Minute
)

// drill runs a sync, kills the leader, then kills the worker of a second sync.
func (e *env) drill(ctx context.Context) error {
	leader, err := e.waitLeader(ctx, "", e.reps)
	if err != nil {
		return err
	}
	e.printf("   leader: %s\n", leader.name)

	e.printf("== a sync through %s's Airbyte API (POST /api/v1/connections/sync)\n", e.reps[0].name)
	id, err := e.trigger(ctx, e.reps[0])
	if err != nil {
		return err
	}
	if err := e.waitSucceeded(ctx, id, e.reps[0]); err != nil {
		return err
	}

	e.printf("== kill -9 the leader %s (pid %d)\n", leader.name, leader.pid())
	old, _ := leader.cluster(ctx)
	leader.kill()
	killed := time.Now()
	next, err := e.waitLeader(ctx, old.Self, e.alive())
	if err != nil {
		return err
	}
	e.printf("   new leader %s after %s (the issue's target: 20 s)\n", next.name, time.Since(killed).Round(100*time.Millisecond))

	alive := e.alive()
	e.printf("== a second sync through %s; kill -9 the replica running it mid-range\n", alive[0].name)
	id, err = e.trigger(ctx, alive[0])
	if err != nil {
		return err
	}
	worker, err := e.waitMidRange(ctx, id)
	if err != nil {
		return err
	}
	e.printf("   job %d runs on %s and has uploaded a part: kill -9 %s (pid %d)\n", id, worker.name, worker.name, worker.pid())
	worker.kill()
	killed = time.Now()
	heir, err := e.waitOwner(ctx, id, func(r *replica) bool { return r != worker })
	if err != nil {
		return err
	}
	e.printf("   job %d taken over by %s after %s (the issue's target: 60 s)\n", id, heir.name, time.Since(killed).Round(100*time.Millisecond))
	if err := e.waitSucceeded(ctx, id, e.alive()[0]); err != nil {
		return err
	}
	e.printf("== drill done; stopping the replicas, MariaDB and PostgreSQL\n")
	return nil
}

func (e *env) alive() []*replica {
	var out []*replica
	for _, r := range e.reps {
		if !r.gone() {
			out = append(out, r)
		}
	}
	return out
}

// waitLeader polls GET /api/acode/cluster on reps until all of them name
// the same leader other than not, and returns that replica.
func (e *env) waitLeader(ctx context.Context, not string, reps []*replica) (*replica, error) {
	var leader *replica
	err := poll(ctx, leaderLimit, "one leader named by every running replica", func() bool {
		selves := map[string]*replica{}
		name := ""
		for _, r := range reps {
			v, err := r.cluster(ctx)
			if err != nil || v.Leader == "" || v.Leader == not || (name != "" && v.Leader != name) {
				return false
			}
			name = v.Leader
			selves[v.Self] = r
		}
		leader = selves[name]
		return leader != nil
	})
	return leader, err
}

// trigger starts a sync of the demo's connection through r.
func (e *env) trigger(ctx context.Context, r *replica) (int64, error) {
	j, err := r.sync(ctx, demo.Connection)
	if err != nil {
		return 0, err
	}
	e.printf("   job %d %s\n", j.Job.ID, j.Job.Status)
	return j.Job.ID, nil
}

// owner is the running replica whose pid ends job j's owner (host:pid).
func (e *env) owner(j state.Job) *replica {
	for _, r := range e.alive() {
		if strings.HasSuffix(j.Owner, ":"+strconv.Itoa(r.pid())) {
			return r
		}
	}
	return nil
}

// waitMidRange waits until job id runs on a replica and has recorded an
// uploaded part, and returns that replica.
func (e *env) waitMidRange(ctx context.Context, id int64) (*replica, error) {
	var worker *replica
	err := poll(ctx, syncLimit, fmt.Sprintf("job %d to upload a part", id), func() bool {
		j, err := e.st.Job(ctx, id)
		if err != nil || j.Status != state.JobRunning || e.owner(j) == nil {
			return false
		}
		for _, s := range []string{demo.TableDiario, demo.TableProdutos, demo.TableComplemento} {
			if ps, _ := e.st.Parts(ctx, id, s); len(ps) > 0 {
				worker = e.owner(j)
				return true
			}
		}
		return false
	})
	return worker, err
}

// waitOwner waits until a running replica that ok accepts owns job id.
func (e *env) waitOwner(ctx context.Context, id int64, ok func(*replica) bool) (*replica, error) {
	var heir *replica
	err := poll(ctx, takeoverLimit, fmt.Sprintf("another replica to own job %d", id), func() bool {
		j, err := e.st.Job(ctx, id)
		if err != nil {
			return false
		}
		heir = e.owner(j)
		return heir != nil && ok(heir)
	})
	return heir, err
}

// waitSucceeded polls jobs/get on r until job id ends, and prints how.
func (e *env) waitSucceeded(ctx context.Context, id int64, r *replica) error {
	start := time.Now()
	status := ""
	err := poll(ctx, syncLimit, fmt.Sprintf("job %d to end", id), func() bool {
		j, err := r.job(ctx, id)
		status = j.Job.Status
		return err == nil && (status == "succeeded" || status == "failed" || status == "cancelled")
	})
	if err != nil {
		return err
	}
	j, err := e.st.Job(ctx, id)
	if err != nil {
		return err
	}
	e.printf("   job %d %s (jobs/get on %s), %d rows (the source holds %d), %s\n",
		id, status, r.name, j.Rows, e.total, time.Since(start).Round(100*time.Millisecond))
	if status != "succeeded" {
		return errors.New("job " + strconv.FormatInt(id, 10) + " ended " + status + ": " + j.Error)
	}
	return nil
}
