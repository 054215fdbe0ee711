package cdc

import (
	"bytes"
	"fmt"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

// assembler turns the binlog's event sequence into whole transactions:
// MariaDB writes a GTID event, then (for row changes) table maps and row
// events, then an XID event (InnoDB) or a COMMIT query (other engines); a
// DDL is a GTID event flagged standalone followed by its one query.
type assembler struct {
	tables  Tables
	spill   int64  // a transaction holding more bytes is handed over in chunks (0: never)
	emitted int    // changes of cur already handed over in chunks
	file    string // current binlog file, from rotate events
	cur     *Txn
	alone   bool // cur is a standalone (DDL or non-transactional) event group
	mapped  *replication.TableMapEvent
	labels  map[int][]string // ENUM and SET members of mapped's columns
	checked map[*replication.TableMapEvent]bool
	arena   rowArena // where the row images of cur are kept
}

func newAssembler(tables Tables, spill int64) *assembler {
	return &assembler{tables: tables, spill: spill, checked: map[*replication.TableMapEvent]bool{}}
}

// add feeds one event; it returns the transaction that event completed, if any.
func (a *assembler) add(ev *replication.BinlogEvent) (*Txn, error) {
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		a.file = string(e.NextLogName)
	case *replication.MariadbGTIDEvent:
		a.cur = &Txn{GTID: GTID{Domain: e.GTID.DomainID, Server: e.GTID.ServerID, Seq: e.GTID.SequenceNumber},
			CommitTime: time.Unix(int64(ev.Header.Timestamp), 0).UTC()}
		a.alone, a.emitted = e.IsStandalone(), 0
	case *replication.RowsEvent:
		if a.cur != nil {
			if err := a.addRows(ev.Header, e); err != nil {
				return nil, err
			}
			return a.chunk(ev.Header), nil
		}
	case *replication.XIDEvent:
		return a.finish(ev.Header), nil
	case *replication.QueryEvent:
		return a.query(ev.Header, e), nil
	}
	return nil, nil
}

func (a *assembler) query(h *replication.EventHeader, e *replication.QueryEvent) *Txn {
	if a.cur == nil {
		return nil
	}
	q := bytes.TrimSpace(e.Query)
	switch {
	case bytes.EqualFold(q, []byte("BEGIN")):
		return nil
	case bytes.EqualFold(q, []byte("COMMIT")):
		return a.finish(h)
	case a.alone:
		a.cur.DDL, a.cur.DDLSchema = string(q), string(e.Schema)
		return a.finish(h)
	}
	return nil
}

// chunk hands over the changes held so far as a partial transaction once
// they pass the spill size, so a transaction of any size holds at most that
// much in memory; nil while under it.
func (a *assembler) chunk(h *replication.EventHeader) *Txn {
	if a.spill <= 0 || a.cur.Bytes < a.spill {
		return nil
	}
	c := *a.cur
	c.Partial, c.SeqBase = true, a.emitted
	c.LogFile, c.LogPos = a.file, h.LogPos
	a.emitted += len(c.Changes)
	a.cur.Changes, a.cur.Bytes = nil, 0
	return &c
}

func (a *assembler) finish(h *replication.EventHeader) *Txn {
	t := a.cur
	if t == nil {
		return nil
	}
	a.cur = nil
	t.SeqBase = a.emitted
	t.CommitTime = time.Unix(int64(h.Timestamp), 0).UTC()
	t.LogFile, t.LogPos = a.file, h.LogPos
	return t
}

func (a *assembler) addRows(h *replication.EventHeader, e *replication.RowsEvent) error {
	tm := e.Table
	if tm == nil {
		return nil
	}
	t := a.tables.Lookup(string(tm.Schema), string(tm.Table))
	if t == nil {
		return nil
	}
	if !a.checked[tm] {
		if err := t.checkColumns(tm.ColumnNameString(), int(tm.ColumnCount)); err != nil {
			return err
		}
		a.checked[tm] = true
	}
	if a.mapped != tm {
		a.mapped, a.labels = tm, tm.EnumStrValueMap()
		for i, l := range tm.SetStrValueMap() {
			if a.labels == nil {
				a.labels = map[int][]string{}
			}
			a.labels[i] = l
		}
	}
	op, step := OpCreate, 1
	switch e.Type() {
	case replication.EnumRowsEventTypeUpdate:
		op, step = OpUpdate, 2 // before and after images, in pairs
	case replication.EnumRowsEventTypeDelete:
		op = OpDelete
	case replication.EnumRowsEventTypeInsert:
	default:
		return fmt.Errorf("table %s: unknown rows event %s", t.Source.Name, h.EventType)
	}
	for i := step - 1; i < len(e.Rows); i += step {
		if i < len(e.SkippedColumns) && len(e.SkippedColumns[i]) > 0 {
			return fmt.Errorf("table %s.%s: the binlog holds partial row images: set binlog_row_image=FULL on the server read: %w",
				t.Source.Namespace, t.Source.Name, ErrServerSettings)
		}
		row, n, err := a.textRow(t, e.Rows[i])
		if err != nil {
			return err
		}
		a.cur.Changes = append(a.cur.Changes, Change{Table: t, Op: op, Row: row})
		a.cur.Bytes += int64(n) + 24*int64(len(row)) + 48 // values and their slice headers in the arena, the change
	}
	return nil
}

func (a *assembler) textRow(t *Table, values []any) ([][]byte, int, error) {
	if len(values) != len(t.Source.Columns) {
		return nil, 0, &SchemaChangedError{Table: t.Source.Namespace + "." + t.Source.Name,
			Detail: fmt.Sprintf("a row image has %d values for %d columns (binlog_row_image must be FULL)", len(values), len(t.Source.Columns))}
	}
	row := a.arena.row(len(values))
	size := 0
	for i, v := range values {
		if v == nil {
			continue // NULL
		}
		dst := a.arena.room(textSize(v))
		b, err := appendText(dst, t.Source.Columns[i], v, a.labels[i])
		if err != nil {
			return nil, 0, &ValueError{Table: t.Source.Namespace + "." + t.Source.Name, Column: t.Source.Columns[i].Name, GTID: a.cur.GTID, Err: err}
		}
		row[i] = a.arena.took(b)
		size += len(b)
	}
	return row, size, nil
}

// rowArena holds the row images of the changes being assembled in a few
// large blocks rather than an allocation per value and per row: a million
// row changes were some six million small objects for the GC to track.
// Blocks are never reused: a change handed over keeps its block alive
// until the landing has written it, and a new transaction or chunk then
// fills new blocks.
type rowArena struct {
	bytes []byte   // values: len is what is taken
	cells [][]byte // rows: len is what is taken
}

const (
	arenaBytes = 64 << 10 // a values block
	arenaCells = 4 << 10  // a rows block (96 KiB)
)

// row returns n cells for one row image, all nil (NULL).
func (r *rowArena) row(n int) [][]byte {
	if cap(r.cells)-len(r.cells) < n {
		r.cells = make([][]byte, 0, max(n, arenaCells))
	}
	at := len(r.cells)
	r.cells = r.cells[:at+n]
	return r.cells[at : at+n : at+n]
}

// room returns an empty, non-nil slice at the end of the values block with
// room for about n bytes, starting a new block when the current one has
// not: an append past it would copy the block.
func (r *rowArena) room(n int) []byte {
	if r.bytes == nil || cap(r.bytes)-len(r.bytes) < n {
		r.bytes = make([]byte, 0, max(n, arenaBytes))
	}
	return r.bytes[len(r.bytes):len(r.bytes)]
}

// took takes b, which room's slice grew into, as a value: it stays the
// block's when it fit, or is its own when it did not.
func (r *rowArena) took(b []byte) []byte {
	if cap(r.bytes)-len(r.bytes) >= len(b) && len(b) > 0 && &r.bytes[:len(r.bytes)+1][len(r.bytes)] == &b[0] {
		r.bytes = r.bytes[:len(r.bytes)+len(b)]
	}
	return b[:len(b):len(b)]
}
