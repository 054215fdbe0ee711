package cdc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/acode-dev/acode/internal/snapshot"
)

// Endpoint is the server a reader takes the binlog from.
type Endpoint struct {
	Name     string // the source's resource_name, for messages
	Host     string
	Port     int
	User     string
	Password string
	TLS      *tls.Config // nil: plain
	// Source is what a manifest says about this server (role, name, host).
	Source snapshot.Source
}

// ReaderConfig is how a reader connects and notices a dead connection.
type ReaderConfig struct {
	ServerID    uint32
	Heartbeat   time.Duration
	ReadTimeout time.Duration
	// SpillBytes: a transaction holding more is landed in chunks as it is
	// read (0: whole transactions only).
	SpillBytes int64
}

// ConnectionError wraps a failure to reach or keep reading the server:
// the run reconnects after a pause, from the last whole transaction.
type ConnectionError struct {
	Endpoint string
	Err      error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("binlog of %s: %v", e.Endpoint, e.Err)
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// PositionError says the server cannot serve the binlog from the position
// asked (error 1236: purged past it, or a GTID it never had). Reconnecting
// does not help; the stream needs a new backfill or another server.
type PositionError struct {
	Endpoint string
	Position Position
	Err      error
}

func (e *PositionError) Error() string {
	return fmt.Sprintf("binlog of %s cannot be read from GTID position %q: %v", e.Endpoint, e.Position.String(), e.Err)
}

func (e *PositionError) Unwrap() error { return e.Err }

// errBinlogPosition is MySQL's ER_MASTER_FATAL_ERROR_READING_BINLOG.
const errBinlogPosition = 1236

// read streams whole transactions from ep's binlog after from into out
// until ctx ends or the connection fails. It returns a *ConnectionError or
// *PositionError for the server's failures and the assembler's errors as
// they are. The binlog client's own reconnect is off: it could deliver a
// transaction twice; the caller reconnects from what it has landed.
func read(ctx context.Context, ep Endpoint, cfg ReaderConfig, tables Tables, from Position, out *queue, log *slog.Logger) error {
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:                cfg.ServerID,
		Flavor:                  gomysql.MariaDBFlavor,
		Host:                    ep.Host,
		Port:                    uint16(ep.Port),
		User:                    ep.User,
		Password:                ep.Password,
		TLSConfig:               ep.TLS,
		Charset:                 "utf8mb4",
		HeartbeatPeriod:         cfg.Heartbeat,
		ReadTimeout:             cfg.ReadTimeout,
		DisableRetrySync:        true,
		TimestampStringLocation: time.UTC,
		RenderJSONAsMySQLText:   true,
		FillZeroLogPos:          true,
		EventCacheCount:         128, // decoded events waiting for the assembler (default 10240): ~100 rows and ~40 KiB each
		RowsEventDecodeFunc:     decodeLandedRows(tables),
		Logger:                  quietLogger(log),
	})
	defer syncer.Close()
	gset, err := gomysql.ParseMariadbGTIDSet(from.String())
	if err != nil {
		return fmt.Errorf("binlog position %q: %w", from.String(), err)
	}
	stream, err := syncer.StartSyncGTID(gset)
	if err != nil {
		return classify(ep, from, err)
	}
	asm := newAssembler(tables, cfg.SpillBytes)
	for {
		ev, err := stream.GetEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return classify(ep, from, err)
		}
		txn, err := asm.add(ev)
		if err != nil {
			return err
		}
		if txn == nil {
			continue
		}
		if err := out.put(ctx, txn); err != nil {
			return err
		}
	}
}

// decodeLandedRows decodes the row images of landed tables only. A
// server's binlog carries the changes of every table on it, and decoding
// them (values boxed one by one) is most of a reader's CPU; the rows
// events of the other tables keep their header, which names the table,
// and no rows. tables is only read once the reader runs.
func decodeLandedRows(tables Tables) func(*replication.RowsEvent, []byte) error {
	return func(e *replication.RowsEvent, data []byte) error {
		pos, err := e.DecodeHeader(data)
		if err != nil {
			return err
		}
		if e.Table == nil || tables.Lookup(string(e.Table.Schema), string(e.Table.Table)) == nil {
			return nil
		}
		return e.DecodeData(pos, data)
	}
}

// bigTxn is the size past which a transaction (or a chunk of a spilled
// one) counts as big for the queue.
const bigTxn = 1 << 20

// queue hands decoded transactions from the reader to the landing. Small
// ones queue up; a big one first waits until the landing has finished the
// previous big one and taken everything queued before it, so at most two
// big ones are in memory at once: the one being landed and the one just
// decoded (three, with one more queued, made a 1M-row transaction's peak).
type queue struct {
	txns chan *Txn
	big  chan struct{} // holds a token while a big transaction is queued or being landed
}

func newQueue() *queue {
	return &queue{txns: make(chan *Txn, 16), big: make(chan struct{}, 1)}
}

func (q *queue) put(ctx context.Context, txn *Txn) error {
	if txn.Bytes >= bigTxn {
		select {
		case q.big <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		for len(q.txns) > 0 {
			select {
			case <-time.After(time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	select {
	case q.txns <- txn:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// landed says the landing is done with txn (landed or failed).
func (q *queue) landed(txn *Txn) {
	if txn.Bytes >= bigTxn {
		<-q.big
	}
}

func classify(ep Endpoint, from Position, err error) error {
	var my *gomysql.MyError
	if errors.As(err, &my) && my.Code == errBinlogPosition {
		return &PositionError{Endpoint: ep.Name, Position: from, Err: err}
	}
	return &ConnectionError{Endpoint: ep.Name, Err: err}
}

// quietLogger hands the binlog client a logger that keeps its warnings and
// errors but not its chatty info lines (it logs its whole configuration).
func quietLogger(log *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{log.Handler(), slog.LevelWarn}).With("component", "binlog")
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}

func (h levelFloor) WithGroup(g string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(g), h.min}
}
