package cluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/acode-dev/acode/internal/state"
)

const (
	// DefaultPoll is how often a Node refreshes its replica row and reads
	// who leads.
	DefaultPoll = time.Second
	// FreshFor is how long a replica counts as alive after its last
	// refresh: several missed polls, so a busy database does not make a
	// live replica vanish from the status page.
	FreshFor = 15 * time.Second
)

// Options tune Join.
type Options struct {
	ID   string        // this replica's id; state.DefaultOwner() (host:pid) when empty
	Addr string        // what it listens on, shown to the other replicas
	Log  *slog.Logger  // nil: discard
	Poll time.Duration // DefaultPoll when 0
}

// Member is one replica as the status page shows it.
type Member struct {
	state.Replica
	Leader bool // it holds the leadership now
	Self   bool // it is this process
}

// Node is this process's place among the replicas sharing a state store.
type Node struct {
	st   *state.Store
	id   string
	addr string
	log  *slog.Logger
	poll time.Duration

	db    *sql.DB                // the PostgreSQL pool; nil on SQLite
	river *river.Client[*sql.Tx] // nil on SQLite

	leader   atomic.Bool
	leaderID atomic.Pointer[string]
	changed  chan struct{} // closed and replaced at every change of leadership

	mu        sync.Mutex // guards changed
	cancel    context.CancelFunc
	done      chan struct{} // closed when loop returns
	leaveOnce sync.Once
	leaveErr  error
}

// Join registers this process as a replica of st and, on PostgreSQL, takes
// part in leader election until Leave. On SQLite the Node leads at once.
func Join(ctx context.Context, st *state.Store, opts Options) (*Node, error) {
	n := &Node{st: st, id: opts.ID, addr: opts.Addr, log: opts.Log, poll: opts.Poll, changed: make(chan struct{})}
	if n.id == "" {
		n.id = state.DefaultOwner()
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.poll <= 0 {
		n.poll = DefaultPoll
	}
	empty := ""
	n.leaderID.Store(&empty)
	if err := st.SeeReplica(ctx, n.id, n.addr); err != nil {
		return nil, fmt.Errorf("join the replicas: %w", err)
	}
	if db, ok := st.SQL(); ok {
		n.db = db
		client, err := startRiver(ctx, db, n.id, n.log)
		if err != nil {
			return nil, err
		}
		n.river = client
	} else {
		n.setLeader(n.id)
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel, n.done = cancel, make(chan struct{})
	go n.loop(loopCtx)
	return n, nil
}

// ID is this replica's id.
func (n *Node) ID() string { return n.id }

// IsLeader reports whether this replica leads now.
func (n *Node) IsLeader() bool { return n.leader.Load() }

// Leader is the id of the replica that leads now, "" during an election.
func (n *Node) Leader() string { return *n.leaderID.Load() }

// Members returns the live replicas, oldest first, marking the leader and
// this one.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	rs, err := n.st.Replicas(ctx, FreshFor)
	if err != nil {
		return nil, err
	}
	leader := n.Leader()
	out := make([]Member, len(rs))
	for i, r := range rs {
		out[i] = Member{Replica: r, Leader: r.ID == leader, Self: r.ID == n.id}
	}
	return out, nil
}

// Leave stops taking part: River's client stops (resigning the leadership,
// so another replica takes over at once) and the replica row is removed.
// Later and concurrent calls wait for the first and return its result.
func (n *Node) Leave(ctx context.Context) error {
	n.leaveOnce.Do(func() { n.leaveErr = n.leave(ctx) })
	return n.leaveErr
}

func (n *Node) leave(ctx context.Context) error {
	n.cancel()
	<-n.done
	var errs []error
	if n.river != nil {
		if err := n.river.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop river client: %w", err))
		}
	}
	n.setLeader("")
	errs = append(errs, n.st.ForgetReplica(ctx, n.id))
	return errors.Join(errs...)
}

// loop refreshes the replica row and reads the leadership every poll.
func (n *Node) loop(ctx context.Context) {
	defer close(n.done)
	t := time.NewTicker(n.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.st.SeeReplica(ctx, n.id, n.addr); err != nil && ctx.Err() == nil {
			n.log.Warn("refresh this replica's row", "err", err)
		}
		if n.db == nil {
			continue
		}
		leader, err := currentLeader(ctx, n.db)
		if err != nil {
			if ctx.Err() == nil {
				// Unknown is not leader: stop the loops rather than risk two.
				n.log.Warn("read the leadership", "err", err)
				n.setLeader("")
			}
			continue
		}
		n.setLeader(leader)
	}
}

// setLeader records who leads and wakes WhileLeader on a change.
func (n *Node) setLeader(id string) {
	if *n.leaderID.Load() == id {
		return
	}
	old := *n.leaderID.Load()
	n.leaderID.Store(&id)
	n.leader.Store(id != "" && id == n.id)
	n.mu.Lock()
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
	n.log.Info("cluster leader", "leader", id, "previous", old, "self", id == n.id)
}

func (n *Node) changes() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// WhileLeader runs fn each time this replica becomes leader, with a
// context cancelled as soon as it is not leader any more (or ctx ends), and
// waits for fn to return before fn can run again. stop ends it and waits.
func (n *Node) WhileLeader(ctx context.Context, fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			wake := n.changes()
			if !n.IsLeader() {
				select {
				case <-ctx.Done():
					return
				case <-wake:
				}
				continue
			}
			n.runTerm(ctx, fn)
		}
	}()
	return func() { cancel(); <-done }
}

// runTerm runs fn until the leadership is lost or ctx ends.
func (n *Node) runTerm(ctx context.Context, fn func(ctx context.Context)) {
	term, end := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		fn(term)
	}()
	for n.IsLeader() && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-n.changes():
		case <-finished:
		}
		select {
		case <-finished:
			end()
			return
		default:
		}
	}
	end()
	<-finished
}
