package main

import (
	"errors"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/cluster"
	"github.com/acode-dev/acode/internal/pairsync"
	"github.com/acode-dev/acode/internal/state"
)

// sharedJobLease is a job's heartbeat lease when replicas share a
// PostgreSQL state: a job whose process died is taken over by another
// replica within this lease plus sharedReapEvery (the target is 60 s).
// Runners heartbeat every 15 s, so a live job misses more than two beats
// before it counts as abandoned.
const (
	sharedJobLease  = 40 * time.Second
	sharedReapEvery = 5 * time.Second
)

// jobLease is the lease serve opens the state with: the short shared one
// on PostgreSQL, the default (one process, nobody to take over) on SQLite.
func jobLease(stateDB string) time.Duration {
	if isSharedState(stateDB) {
		return sharedJobLease
	}
	return state.DefaultLease
}

// runFresh is how recently a replica must have been seen for a run it
// recorded to count as live through the other replicas' APIs (0 on
// SQLite: the one process knows its runs).
func runFresh(st *state.Store) time.Duration {
	if st.Engine() != "postgres" {
		return 0
	}
	return cluster.FreshFor
}

// isSharedState reports whether state_db names a PostgreSQL database that
// several replicas may share.
func isSharedState(stateDB string) bool {
	l := strings.ToLower(stateDB)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// queueRule says which connections' jobs are queued work that any replica
// with a free slot claims (on SQLite: this one process, at once). A
// failover pair's run is not: its orchestrator creates the run's jobs as
// it goes (primary, then maybe backup), so it runs where it was started.
func queueRule(orch *pairsync.Orchestrator) func(string) bool {
	return func(connection string) bool {
		_, err := orch.Pair(connection)
		return errors.Is(err, pairsync.ErrNotInPair)
	}
}

// reapEvery is how often serve looks for abandoned jobs.
func reapEvery(st *state.Store) time.Duration {
	if st.Engine() == "postgres" {
		return sharedReapEvery
	}
	return state.DefaultLease / 2
}

// takeOverRule says which abandoned jobs a replica takes over and runs on
// (nil on SQLite: one process, its dead jobs are failed as before): on a
// shared state every job, a failover pair's too, which resumes as the
// pair's run (pairsync.ResumeJob): its outcome feeds the pair's machine
// and a failure may still fail over to the backup inside the run.
func takeOverRule(st *state.Store) func(state.Job) bool {
	if st.Engine() != "postgres" {
		return nil
	}
	return func(state.Job) bool { return true }
}
