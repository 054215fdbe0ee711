package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/acode-dev/acode/internal/schema"
)

// Config is one reader: the server it reads, the streams it lands, and
// when it commits.
type Config struct {
	Connection string
	Endpoint   Endpoint
	// Fallback are the other servers of the topology (a failover pair's
	// other side): after SwitchAfter failed connections in a row the reader
	// continues on the next one from the same GTID position, which, with
	// gtid_strict_mode and log_slave_updates, names the same transactions
	// there.
	Fallback      []Endpoint
	SwitchAfter   int
	Reader        ReaderConfig
	Tables        []*Table
	Sink          *Sink
	Cursors       CursorStore
	FlushInterval time.Duration
	FlushBytes    int64
	RetryMax      time.Duration
	// Current returns the server's position now (@@gtid_binlog_pos): where
	// a stream without a checkpoint starts.
	Current func(ctx context.Context) (Position, error)
	// Switched, when set, is told the server the reader continues on after
	// a switch, so the SQL reads above (Current, Discover, Backfill,
	// Retention) follow the binlog to it.
	Switched func(to Endpoint)
	Log      *slog.Logger
	// Stats, when set, is updated as transactions land.
	Stats *Stats
	// Backfill, when set, gives a stream without a checkpoint its current
	// rows first; without it such a stream starts at Current.
	Backfill *Backfill
	// Discover, when set, reads a landed table's columns again after the
	// binlog shows them changed: added columns are followed.
	Discover func(ctx context.Context, t *Table) (schema.Table, error)
	// OnDiverged, when set, is told when the reader rewound past orphan
	// transactions of a diverged server (acode serve raises an alert).
	OnDiverged func(ctx context.Context, d Divergence)
	// Retention, when set, reads the binlog files the server read holds:
	// a *PositionError then tells a purged checkpoint apart (purge.go).
	Retention func(ctx context.Context) (Retention, error)
	// Resync backfills the streams whose checkpoint was purged again
	// (invalid_cdc_cursor_position_behavior Re-sync data) instead of
	// stopping; OnPurged is told either way.
	Resync   bool
	OnPurged func(ctx context.Context, p Purge)
}

// run is one Run's state: the landings and the position read up to.
type run struct {
	cfg      Config
	tables   Tables
	landings []*landing
	byTable  map[*Table]*landing
	read     Position // after the last whole transaction handed to the landings
	flushed  time.Time
	servers  []Endpoint // Endpoint, then Fallback
	server   int        // the one read now
	landed   bool       // a transaction landed since the last connection
	inTxn    bool       // chunks of a spilled transaction are in the open files, its end is not
}

// Run reads the binlog and lands it until ctx ends (then it commits what
// it holds and returns nil) or a failure that reconnecting cannot fix. A
// lost connection is reopened from the last whole transaction after a
// pause growing to RetryMax.
func Run(ctx context.Context, cfg Config) error {
	err := runReader(ctx, cfg)
	if err != nil && ctx.Err() == nil {
		cfg.Log.Error("cdc reader halted", "connection", cfg.Connection, "err", err)
	}
	return err
}

func runReader(ctx context.Context, cfg Config) error {
	r, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	pause, failures := time.Second, 0
	for {
		r.landed = false
		err := r.stream(ctx)
		r.abandonPartial()
		var conn *ConnectionError
		var changed *SchemaChangedError
		var perr *PositionError
		if errors.As(err, &perr) && ctx.Err() == nil {
			rewound, derr := r.diverged(ctx)
			switch {
			case errors.As(derr, &conn):
				err = derr // retried like any lost connection
			case derr != nil:
				return fmt.Errorf("%w; while rewinding: %w", err, derr)
			case rewound:
				failures, pause = 0, time.Second
				continue // read again from the common point
			}
		}
		if ctx.Err() == nil {
			resynced, rerr := r.resyncPurged(ctx, err)
			if rerr != nil {
				return rerr
			}
			if resynced {
				failures, pause = 0, time.Second
				continue // read on from the new snapshot positions
			}
		}
		switch {
		case ctx.Err() != nil:
			return r.stop()
		case errors.As(err, &changed) && !changed.Final && changed.table != nil && cfg.Discover != nil:
			if err := r.evolve(ctx, changed.table); err != nil {
				return err
			}
			continue // read again from the transaction that showed the new columns
		case errors.As(err, &conn):
			if r.landed {
				failures, pause = 0, time.Second
			}
			failures++
			cfg.Log.Warn("cdc reader lost its connection; reconnecting", "source", r.servers[r.server].Name, "err", err, "pause", pause)
			if failures >= max(cfg.SwitchAfter, 1) && len(r.servers) > 1 {
				r.switchServer()
				failures, pause = 0, time.Second
			}
		default:
			if cerr := r.commitAll(context.WithoutCancel(ctx)); cerr != nil {
				cfg.Log.Error("cdc commit before stopping", "err", cerr)
			}
			return err
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return r.stop()
		}
		pause = min(2*pause, cfg.RetryMax)
	}
}

// evolve follows a landed table whose columns grew: every open file is
// committed first (its transactions all have the old columns), then the
// table is discovered again and its change log goes on with the new
// columns, in new files. A dropped or retyped column stops the reader.
func (r *run) evolve(ctx context.Context, t *Table) error {
	if err := r.commitAll(ctx); err != nil {
		return err
	}
	now, err := r.cfg.Discover(ctx, t)
	if err != nil {
		return fmt.Errorf("discover %s again after its columns changed: %w", t.Source.Name, err)
	}
	if err := t.grown(now); err != nil {
		return err
	}
	old := r.byTable[t]
	prev := t.Source
	t.Source = now
	l, err := newLanding(r.cfg.Sink, t)
	if err != nil {
		t.Source = prev
		return err
	}
	l.pos, l.repaired = old.pos, old.repaired
	for i := range r.landings {
		if r.landings[i] == old {
			r.landings[i] = l
		}
	}
	r.byTable[t] = l
	r.cfg.Log.Warn("cdc stream's table gained columns; its change log goes on with them in new files",
		"table", t.Name, "columns_before", len(prev.Columns), "columns_now", len(now.Columns), "fingerprint", l.log.Fingerprint())
	return nil
}

// switchServer moves the reader to the next server of the topology; the
// commits after it name that server in their manifests.
func (r *run) switchServer() {
	from := r.servers[r.server]
	r.server = (r.server + 1) % len(r.servers)
	to := r.servers[r.server]
	if to.Source.Name != "" {
		r.cfg.Sink.Source = to.Source
	}
	if r.cfg.Switched != nil {
		r.cfg.Switched(to)
	}
	r.cfg.Log.Warn("cdc reader continues on another server from its GTID position",
		"from", from.Name, "to", to.Name, "position", r.read.String())
}

func start(ctx context.Context, cfg Config) (*run, error) {
	if len(cfg.Tables) == 0 {
		return nil, fmt.Errorf("%w: %s has no stream to land", ErrNotCDC, cfg.Connection)
	}
	cfg.Sink.checkpoints = checkpoints{store: cfg.Cursors, connection: cfg.Connection}
	r := &run{cfg: cfg, tables: Tables{}, byTable: map[*Table]*landing{}, flushed: time.Now(),
		servers: append([]Endpoint{cfg.Endpoint}, cfg.Fallback...)}
	if err := cfg.Sink.clearStaging(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Sink.clearSpool(); err != nil {
		return nil, err
	}
	var positions []Position
	for _, t := range cfg.Tables {
		l, err := newLanding(cfg.Sink, t)
		if err != nil {
			return nil, err
		}
		if err := r.position(ctx, l); err != nil {
			return nil, err
		}
		r.tables[key(t.Source.Namespace, t.Source.Name)] = t
		r.landings = append(r.landings, l)
		r.byTable[t] = l
		positions = append(positions, l.pos)
	}
	r.read = Earliest(positions)
	if err := r.resumeRewind(ctx); err != nil {
		return nil, err
	}
	cfg.Log.Info("cdc reader starting", "connection", cfg.Connection, "source", cfg.Endpoint.Name,
		"streams", len(r.landings), "from", r.read.String())
	return r, nil
}

// position loads a landing's checkpoint, settling a commit left in flight;
// a stream without one gets its initial position.
func (r *run) position(ctx context.Context, l *landing) error {
	if err := l.recover(ctx); err != nil {
		return err
	}
	if l.pos != nil {
		return nil
	}
	p, ok, err := l.sink.checkpoints.position(ctx, l.table.Name)
	if err != nil {
		return err
	}
	if !ok {
		return r.initial(ctx, l)
	}
	l.pos = p
	return nil
}

// initial gives a stream without a checkpoint its starting position: after
// a backfill when there is one, else the server's position now, saved at
// once so a restart does not skip what happened in between.
func (r *run) initial(ctx context.Context, l *landing) error {
	if r.cfg.Backfill != nil {
		p, err := l.backfill(ctx, r.cfg.Backfill)
		if err != nil {
			return err
		}
		l.pos = p
		return nil
	}
	p, err := r.cfg.Current(ctx)
	if err != nil {
		return fmt.Errorf("read the binlog position of %s: %w", r.servers[r.server].Name, err)
	}
	if err := l.sink.checkpoints.save(ctx, l.table.Name, p); err != nil {
		return err
	}
	r.cfg.Log.Info("cdc stream has no checkpoint and backfill is off: it starts at the server's current position",
		"table", l.table.Name, "position", p.String())
	l.pos = p
	return nil
}

// stream runs one connection: a reader goroutine decoding the binlog, this
// one landing its transactions and committing on time. The reader is
// stopped and waited for before stream returns.
func (r *run) stream(ctx context.Context) error {
	rctx, cancel := context.WithCancel(ctx)
	q := newQueue()
	done := make(chan error, 1)
	ep := r.servers[r.server]
	go func() { done <- read(rctx, ep, r.cfg.Reader, r.tables, r.read.Clone(), q, r.cfg.Log) }()
	defer func() { cancel(); <-done }()
	tick := time.NewTicker(min(time.Second, r.cfg.FlushInterval/4))
	defer tick.Stop()
	for {
		select {
		case txn := <-q.txns:
			err := r.land(ctx, txn)
			q.landed(txn)
			if err != nil {
				return err
			}
		case <-tick.C:
			if !r.inTxn && time.Since(r.flushed) >= r.cfg.FlushInterval {
				// A shutdown does not cut a commit in half: it ends, then
				// the loop sees ctx and stops.
				if err := r.commitAll(context.WithoutCancel(ctx)); err != nil {
					return err
				}
			}
		case err := <-done:
			done <- err // for the deferred wait
			if lerr := r.drain(ctx, q); lerr != nil {
				return lerr
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// abandonPartial drops the open files when the connection ended inside a
// spilled transaction: they hold part of it, so every stream reads again
// from its last commit.
func (r *run) abandonPartial() {
	if !r.inTxn {
		return
	}
	var positions []Position
	for _, l := range r.landings {
		l.drop()
		positions = append(positions, l.pos)
	}
	r.read, r.inTxn = Earliest(positions), false
	r.cfg.Log.Warn("cdc reader stopped inside a transaction landed in chunks; its streams read again from their last commit", "from", r.read.String())
}

// drain lands the whole transactions a stopped reader had already decoded.
func (r *run) drain(ctx context.Context, q *queue) error {
	for {
		select {
		case txn := <-q.txns:
			err := r.land(ctx, txn)
			q.landed(txn)
			if err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// land hands one transaction's changes to the streams that have not seen
// it yet, then moves the read position past it.
func (r *run) land(ctx context.Context, txn *Txn) error {
	groups := r.group(txn)
	for _, l := range r.landings { // in stream order, so commits are too
		if ch := groups[l]; len(ch) > 0 {
			if err := l.add(ctx, txn, ch, r.read, r.inTxn); err != nil {
				return err
			}
		}
	}
	r.cfg.Stats.landed(txn)
	if txn.Partial {
		r.inTxn = true // nothing commits before its end
		return nil
	}
	r.inTxn = false
	r.read.Advance(txn.GTID)
	r.landed = true
	for _, l := range r.landings {
		if r.cfg.FlushBytes > 0 && l.size() >= r.cfg.FlushBytes {
			if err := l.commit(ctx, r.read.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

// group splits txn's changes by the stream that lands them, leaving out
// streams that already have it. A transaction all of one stream (the usual
// case, and every chunk of a big one) is passed on as it is, not copied.
func (r *run) group(txn *Txn) map[*landing][]Change {
	takes := func(t *Table) *landing {
		l := r.byTable[t]
		if l == nil || l.pos.Covers(txn.GTID) {
			return nil
		}
		return l
	}
	var (
		only, lastL *landing
		last        *Table
	)
	whole := true // every change is only's
	for i, c := range txn.Changes {
		if i == 0 || c.Table != last {
			last, lastL = c.Table, takes(c.Table)
		}
		if lastL == nil || (only != nil && lastL != only) {
			whole = false
			break
		}
		only = lastL
	}
	if whole {
		if only == nil {
			return nil
		}
		return map[*landing][]Change{only: txn.Changes}
	}
	groups := map[*landing][]Change{}
	for _, c := range txn.Changes {
		if l := takes(c.Table); l != nil {
			groups[l] = append(groups[l], c)
		}
	}
	return groups
}

// commitAll commits every stream's open file at the read position; a
// stream without one only moves its checkpoint there.
func (r *run) commitAll(ctx context.Context) error {
	upTo := r.read.Clone()
	for _, l := range r.landings {
		if err := l.commit(ctx, upTo); err != nil {
			return err
		}
	}
	r.flushed = time.Now()
	r.cfg.Stats.committed(upTo)
	return nil
}

// stop commits what is held when the reader is asked to end.
func (r *run) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.commitAll(ctx); err != nil {
		for _, l := range r.landings {
			l.drop()
		}
		return fmt.Errorf("commit on shutdown (its transactions are read again next time): %w", err)
	}
	r.cfg.Log.Info("cdc reader stopped", "connection", r.cfg.Connection, "position", r.read.String())
	return nil
}
