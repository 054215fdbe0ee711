package cdc

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// GTID is one MariaDB global transaction id, domain-server-sequence.
type GTID struct {
	Domain uint32
	Server uint32
	Seq    uint64
}

func (g GTID) String() string { return fmt.Sprintf("%d-%d-%d", g.Domain, g.Server, g.Seq) }

// ErrBadGTID marks text that is not a MariaDB GTID or GTID position.
var ErrBadGTID = errors.New("not a MariaDB GTID")

// ParseGTID reads "domain-server-sequence".
func ParseGTID(s string) (GTID, error) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 3 {
		return GTID{}, fmt.Errorf("%w: %q (want domain-server-sequence)", ErrBadGTID, s)
	}
	d, err1 := strconv.ParseUint(parts[0], 10, 32)
	srv, err2 := strconv.ParseUint(parts[1], 10, 32)
	seq, err3 := strconv.ParseUint(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return GTID{}, fmt.Errorf("%w: %q", ErrBadGTID, s)
	}
	return GTID{Domain: uint32(d), Server: uint32(srv), Seq: seq}, nil
}

// Position is a MariaDB GTID position (@@gtid_binlog_pos): the last GTID
// applied in each replication domain. With gtid_strict_mode sequence
// numbers only grow within a domain, on every server of the topology, which
// is what lets a reader continue on another server from the same position.
type Position map[uint32]GTID

// ParsePosition reads a comma-separated GTID list; "" is the empty position
// (from the start of every domain).
func ParsePosition(s string) (Position, error) {
	p := Position{}
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		g, err := ParseGTID(part)
		if err != nil {
			return nil, err
		}
		if _, dup := p[g.Domain]; dup {
			return nil, fmt.Errorf("%w: %q names domain %d twice", ErrBadGTID, s, g.Domain)
		}
		p[g.Domain] = g
	}
	return p, nil
}

// String lists the GTIDs by domain, as MariaDB prints positions.
func (p Position) String() string {
	domains := make([]uint32, 0, len(p))
	for d := range p {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	out := make([]string, len(domains))
	for i, d := range domains {
		out[i] = p[d].String()
	}
	return strings.Join(out, ",")
}

// Clone copies p.
func (p Position) Clone() Position {
	c := make(Position, len(p))
	for d, g := range p {
		c[d] = g
	}
	return c
}

// Covers reports whether the transaction g is at or before p: a reader
// positioned at p has already seen it.
func (p Position) Covers(g GTID) bool {
	have, ok := p[g.Domain]
	return ok && g.Seq <= have.Seq
}

// Advance records g as the last transaction of its domain.
func (p Position) Advance(g GTID) {
	if have, ok := p[g.Domain]; !ok || g.Seq > have.Seq {
		p[g.Domain] = g
	}
}

// Behind reports whether p lacks something q has seen: some domain of q is
// missing from p or further along in q.
func (p Position) Behind(q Position) bool {
	for d, g := range q {
		if have, ok := p[d]; !ok || have.Seq < g.Seq {
			return true
		}
	}
	return false
}

// Earliest is the position from which a single reader serves every one of
// positions: per domain the smallest sequence, and a domain some position
// has not seen at all is left out (read from its start).
func Earliest(positions []Position) Position {
	out := Position{}
	if len(positions) == 0 {
		return out
	}
	for d, g := range positions[0] {
		low, everywhere := g, true
		for _, p := range positions[1:] {
			h, ok := p[d]
			if !ok {
				everywhere = false
				break
			}
			if h.Seq < low.Seq {
				low = h
			}
		}
		if everywhere {
			out[d] = low
		}
	}
	return out
}
