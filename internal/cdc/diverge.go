package cdc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// Divergence is what a reader found when the server it moved to lacked
// transactions it had already landed: a primary killed while ahead of the
// replica promoted in its place. Orphans never happened on the topology
// that lives on; they are retracted in the change logs.
type Divergence struct {
	Connection string
	Server     string   // the server that lacks them
	From       Position // the checkpoint the reader held
	To         Position // the common point it rewound to
	Orphans    []GTID   // the transactions after To in From, in order
	Retracted  int64    // rows written with _acode_op 'x'
}

// OrphanList names the orphans for a message: all of them up to limit,
// then how many more.
func (d Divergence) OrphanList(limit int) string {
	var b strings.Builder
	for i, g := range d.Orphans {
		if i == limit {
			fmt.Fprintf(&b, " and %d more", len(d.Orphans)-limit)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(g.String())
	}
	return b.String()
}

// binlogState is a server's @@gtid_binlog_state: the last sequence number
// each (domain, server id) wrote into its binlog. Unlike gtid_binlog_pos it
// keeps the servers that are no longer the newest in a domain, which is
// what says how far the old primary's transactions reached this server.
type binlogState map[[2]uint32]uint64

// ErrStillReplicating says the server lacks the reader's position but
// still replicates: it may yet apply those transactions, so they are not
// orphans until it is promoted (its replication reset or stopped).
var ErrStillReplicating = errors.New("the server still replicates")

// readBinlogState reads the server's binlog state.
func readBinlogState(ctx context.Context, ep Endpoint) (binlogState, error) {
	var st binlogState
	err := onServer(ctx, ep, func(conn *client.Conn) error {
		res, err := conn.Execute("SELECT @@gtid_binlog_state")
		if err != nil {
			return &ConnectionError{Endpoint: ep.Name, Err: fmt.Errorf("read @@gtid_binlog_state: %w", err)}
		}
		text, err := res.GetString(0, 0)
		if err != nil {
			return fmt.Errorf("read @@gtid_binlog_state of %s: %w", ep.Name, err)
		}
		st, err = parseBinlogState(text)
		return err
	})
	return st, err
}

// stillReplicating reports whether the server runs a replication thread
// (SHOW ALL SLAVES STATUS, which needs SLAVE MONITOR).
func stillReplicating(ctx context.Context, ep Endpoint) (bool, error) {
	running := false
	err := onServer(ctx, ep, func(conn *client.Conn) error {
		res, err := conn.Execute("SHOW ALL SLAVES STATUS")
		if err != nil {
			return fmt.Errorf("SHOW ALL SLAVES STATUS on %s (the reader's user needs SLAVE MONITOR to tell a promoted server from a lagging replica): %w", ep.Name, err)
		}
		for i := 0; i < res.RowNumber(); i++ {
			for _, col := range []string{"Slave_IO_Running", "Slave_SQL_Running"} {
				if v, err := res.GetStringByName(i, col); err == nil && strings.EqualFold(v, "Yes") {
					running = true
				}
			}
		}
		return nil
	})
	return running, err
}

// onServer runs fn on a plain connection to the endpoint.
func onServer(ctx context.Context, ep Endpoint, fn func(*client.Conn) error) error {
	var opts []client.Option
	if ep.TLS != nil {
		tc := ep.TLS
		opts = append(opts, func(c *client.Conn) error { c.SetTLSConfig(tc); return nil })
	}
	conn, err := client.ConnectWithContext(ctx, net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port)), ep.User, ep.Password, "", 10*time.Second, opts...)
	if err != nil {
		return &ConnectionError{Endpoint: ep.Name, Err: err}
	}
	defer conn.Close()
	return fn(conn)
}

func parseBinlogState(text string) (binlogState, error) {
	st := binlogState{}
	for _, part := range strings.Split(text, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		g, err := ParseGTID(part)
		if err != nil {
			return nil, fmt.Errorf("gtid_binlog_state: %w", err)
		}
		st[[2]uint32{g.Domain, g.Server}] = g.Seq
	}
	return st, nil
}

// commonPoint is, for each domain where the server lacks the last
// transaction of from, the last one of the same server id it has: with
// gtid_strict_mode a domain's sequence numbers are consecutive on its
// primary, so the server has that writer's transactions up to there and
// none after. ok is false when the server has every transaction of from
// (the position failed for another reason: binlog purged) or when it has
// none of that writer's (no common point to rewind to).
func commonPoint(from Position, st binlogState) (to Position, orphans []GTID, ok bool) {
	to = from.Clone()
	for d, g := range from {
		have, known := st[[2]uint32{d, g.Server}]
		if known && have >= g.Seq {
			continue
		}
		if !known || have == 0 {
			return nil, nil, false
		}
		to[d] = GTID{Domain: d, Server: g.Server, Seq: have}
		for s := have + 1; s <= g.Seq; s++ {
			orphans = append(orphans, GTID{Domain: d, Server: g.Server, Seq: s})
		}
	}
	return to, orphans, len(orphans) > 0
}

// orphanOf reports whether g is after to in a domain that was rewound:
// such a transaction came from the dead server only.
func orphanOf(g GTID, from, to Position) bool {
	t, ok := to[g.Domain]
	f := from[g.Domain]
	return ok && f.Seq > t.Seq && g.Seq > t.Seq
}
