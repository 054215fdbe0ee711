package cdc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/acode-dev/acode/internal/state"
)

// rewindStream names the connection's cursor row of a rewind in flight:
// written before the first checkpoint moves back, cleared after the last,
// so a reader killed half-way finishes it (otherwise a stream still
// holding the orphan position would skip the promoted server's new
// transactions of the same sequence numbers).
const rewindStream = "_acode_cdc#rewind"

type rewindRecord struct {
	Server  string `json:"server"`
	From    string `json:"from"`
	To      string `json:"to"`
	Orphans int    `json:"orphans"`
}

// diverged handles a position the server refused: when the server lacks
// transactions the reader landed (a primary killed while ahead of the
// replica promoted in its place), everything held is committed, the
// orphans' rows are retracted, every checkpoint moves back to the common
// point and the reader goes on from there (true). Otherwise (binlog
// purged past the position) it returns false and the caller halts.
func (r *run) diverged(ctx context.Context) (bool, error) {
	ep := r.servers[r.server]
	st, err := readBinlogState(ctx, ep)
	if err != nil {
		return false, err
	}
	from := r.furthest()
	_, orphans, ok := commonPoint(from, st)
	if !ok {
		return false, nil
	}
	replicating, err := stillReplicating(ctx, ep)
	if err != nil {
		return false, err
	}
	if replicating {
		return false, &ConnectionError{Endpoint: ep.Name, Err: fmt.Errorf("%w and lacks %d transactions of the position read (%s): waiting for it to apply them or be promoted",
			ErrStillReplicating, len(orphans), from.String())}
	}
	if err := r.commitAll(ctx); err != nil {
		return false, err
	}
	from = r.furthest()
	to, orphans, _ := commonPoint(from, st)
	rec := rewindRecord{Server: ep.Name, From: from.String(), To: to.String(), Orphans: len(orphans)}
	if err := r.saveRewind(ctx, &rec); err != nil {
		return false, err
	}
	return true, r.finishRewind(ctx, rec, from, to, orphans)
}

// furthest is, per domain, the highest position any stream or the reader
// holds.
func (r *run) furthest() Position {
	out := r.read.Clone()
	for _, l := range r.landings {
		for _, g := range l.pos {
			out.Advance(g)
		}
	}
	return out
}

// finishRewind retracts every stream's orphans and moves its checkpoint
// back; each step is idempotent, so a restart repeats it safely.
func (r *run) finishRewind(ctx context.Context, rec rewindRecord, from, to Position, orphans []GTID) error {
	var rows int64
	for _, l := range r.landings {
		n, err := l.retract(ctx, from, to)
		if err != nil {
			return fmt.Errorf("retract orphan transactions of %s: %w", l.table.Name, err)
		}
		rows += n
		back := rewound(l.pos, to)
		if err := l.sink.checkpoints.save(ctx, l.table.Name, back); err != nil {
			return err
		}
		l.pos = back
	}
	r.read = rewound(r.read, to)
	if err := r.saveRewind(ctx, nil); err != nil {
		return err
	}
	d := Divergence{Connection: r.cfg.Connection, Server: rec.Server, From: from, To: to, Orphans: orphans, Retracted: rows}
	r.cfg.Log.Error("cdc reader rewound to the common point of a diverged server; orphan transactions retracted",
		"server", rec.Server, "from", from.String(), "to", to.String(), "orphans", d.OrphanList(50), "retracted_rows", rows)
	if r.cfg.OnDiverged != nil {
		r.cfg.OnDiverged(ctx, d)
	}
	return nil
}

// rewound is p with every domain rewound in to moved back to it.
func rewound(p, to Position) Position {
	out := p.Clone()
	for d, g := range to {
		if have, ok := out[d]; ok && have.Seq > g.Seq {
			out[d] = g
		}
	}
	return out
}

// resumeRewind finishes a rewind a killed reader left in flight.
func (r *run) resumeRewind(ctx context.Context) error {
	cur, ok, err := r.cfg.Cursors.GetCursor(ctx, r.cfg.Connection, rewindStream)
	if err != nil || !ok || cur.Value == "" {
		return err
	}
	var rec rewindRecord
	if err := json.Unmarshal([]byte(cur.Value), &rec); err != nil {
		return fmt.Errorf("rewind in flight of %s: %w", r.cfg.Connection, err)
	}
	from, err1 := ParsePosition(rec.From)
	to, err2 := ParsePosition(rec.To)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("rewind in flight of %s: %q -> %q", r.cfg.Connection, rec.From, rec.To)
	}
	_, orphans, _ := commonPoint(from, stateOf(to))
	r.cfg.Log.Warn("cdc rewind of the previous process is finished", "from", rec.From, "to", rec.To)
	return r.finishRewind(ctx, rec, from, to, orphans)
}

// stateOf is a binlog state holding exactly the GTIDs of p.
func stateOf(p Position) binlogState {
	st := binlogState{}
	for d, g := range p {
		st[[2]uint32{d, g.Server}] = g.Seq
	}
	return st
}

func (r *run) saveRewind(ctx context.Context, rec *rewindRecord) error {
	value := ""
	if rec != nil {
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		value = string(data)
	}
	return r.cfg.Cursors.SetCursor(ctx, state.Cursor{Connection: r.cfg.Connection, Stream: rewindStream,
		Field: []string{cursorField}, Value: value})
}
