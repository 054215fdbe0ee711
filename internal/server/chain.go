package server

import (
	"context"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// jobChain is a job as the caller who was handed its id sees it: the job
// itself, then the jobs that continued it when the failover orchestration
// synced the backup inside the same run (the primary died mid-job). Airflow
// polls the first id; the run's outcome is the last job's. Each job keeps
// its own record (acode's own API and `acode jobs` show them as they are).
type jobChain struct {
	jobs []state.Job // first job first; never empty
	// live: this server still runs the chain's run, so a next job may
	// follow the last one's end (or the run is still promoting it).
	live bool
}

// chainOf returns the chain job begins.
func (s *Server) chainOf(ctx context.Context, job state.Job) (jobChain, error) {
	c := jobChain{jobs: []state.Job{job}, live: s.runner.RunLive(ctx, job.ID)}
	if job.ContinuedBy == 0 {
		return c, nil
	}
	jobs, err := s.state.JobChain(ctx, job.ID)
	if err != nil {
		return jobChain{}, err
	}
	c.jobs = jobs
	return c, nil
}

func (c jobChain) first() state.Job { return c.jobs[0] }
func (c jobChain) last() state.Job  { return c.jobs[len(c.jobs)-1] }

// status is the run's status: the last job's, except that a run this
// server is still running is running even when its last job has ended
// (the primary's job failed and the backup's job is about to start, or the
// backup's job committed and its promotion runs): a poller must not read a
// failure the run is recovering from, nor a success before the run ends.
// A cancel is final at once, even one recorded through another replica
// while this one's run is still stopping.
func (c jobChain) status() state.JobStatus {
	st := c.last().Status
	if c.live && st.Terminal() && st != state.JobCancelled {
		return state.JobRunning
	}
	return st
}

// updatedAt is the newest change of any job of the chain.
func (c jobChain) updatedAt() time.Time { return c.last().UpdatedAt }

// endedAt is when the run ended, nil while it runs.
func (c jobChain) endedAt() *time.Time {
	if !c.status().Terminal() {
		return nil
	}
	return c.last().EndedAt
}

// totals are the rows and bytes the run delivered: the last job's. A
// failed job's parts are discarded, never published, so adding them would
// count rows no reader sees.
func (c jobChain) totals() (rows, bytes int64) {
	l := c.last()
	return l.Rows, l.Bytes
}

// ids lists the chain's job ids in order.
func (c jobChain) ids() []int64 {
	out := make([]int64, len(c.jobs))
	for i, j := range c.jobs {
		out[i] = j.ID
	}
	return out
}
