package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/google/uuid"
)

// Flavor is the kind of server whose binlog is read: MariaDB and MySQL
// name transactions differently (domain-server-sequence, or the
// committing server's UUID and a transaction number).
type Flavor string

// The flavors a reader may meet.
const (
	FlavorMariaDB Flavor = "mariadb"
	FlavorMySQL   Flavor = "mysql"
)

// FlavorOf tells the flavor from the server's VERSION().
func FlavorOf(version string) Flavor {
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return FlavorMariaDB
	}
	return FlavorMySQL
}

// ServerFlavor asks the server its version and tells the flavor.
func ServerFlavor(ctx context.Context, db *sql.DB) (Flavor, string, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "", "", fmt.Errorf("read the server's version: %w", err)
	}
	return FlavorOf(v), v, nil
}

// MySQLGTID is one MySQL transaction id: the UUID of the server that
// committed it, its tag (MySQL 8.4, "" without) and its number.
type MySQLGTID struct {
	SID uuid.UUID
	Tag string
	GNO int64
}

func (g MySQLGTID) String() string {
	if g.Tag != "" {
		return g.SID.String() + ":" + g.Tag + ":" + strconv.FormatInt(g.GNO, 10)
	}
	return g.SID.String() + ":" + strconv.FormatInt(g.GNO, 10)
}

// ParseMySQLGTID reads "uuid:number" or "uuid:tag:number".
func ParseMySQLGTID(s string) (MySQLGTID, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 2 && len(parts) != 3 {
		return MySQLGTID{}, fmt.Errorf("%w: %q (want uuid:number or uuid:tag:number)", ErrBadGTID, s)
	}
	sid, err := uuid.Parse(parts[0])
	if err != nil {
		return MySQLGTID{}, fmt.Errorf("%w: %q: server uuid: %v", ErrBadGTID, s, err)
	}
	gno, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	if err != nil || gno < 1 {
		return MySQLGTID{}, fmt.Errorf("%w: %q: transaction number must be a positive integer", ErrBadGTID, s)
	}
	g := MySQLGTID{SID: sid, GNO: gno}
	if len(parts) == 3 {
		g.Tag = gomysql.NewTag(parts[1]).String()
	}
	return g, nil
}

// MySQLSet is a MySQL GTID set (@@gtid_executed): for each server UUID
// (and tag) the intervals of transaction numbers seen. Unlike a MariaDB
// position it may have gaps (a replica applying in parallel commits out of
// order), so a transaction is covered when it is in the set, not when it
// is at or before a last one, and a checkpoint is the whole set.
type MySQLSet struct{ s gomysql.MysqlGTIDSet }

// ParseMySQLSet reads a GTID set as MySQL prints it
// ("uuid:1-5:7,uuid2:1-3"; "" is the empty set). Newlines, which MySQL
// puts after each comma, are ignored.
func ParseMySQLSet(text string) (MySQLSet, error) {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\n", ""), " ", "")
	set, err := gomysql.ParseMysqlGTIDSet(text)
	if err != nil {
		return MySQLSet{}, fmt.Errorf("%w: MySQL GTID set %q: %v", ErrBadGTID, text, err)
	}
	return MySQLSet{s: *set.(*gomysql.MysqlGTIDSet)}, nil
}

// String prints the set as MySQL does, server UUIDs in order.
func (p MySQLSet) String() string { return p.ptr().String() }

func (p MySQLSet) ptr() *gomysql.MysqlGTIDSet {
	if p.s == nil {
		empty := gomysql.NewMysqlGTIDSet()
		return &empty
	}
	s := p.s
	return &s
}

// Clone copies p.
func (p MySQLSet) Clone() MySQLSet {
	return MySQLSet{s: *p.ptr().Clone().(*gomysql.MysqlGTIDSet)}
}

// Covers reports whether g is in the set: a reader holding p has seen it.
func (p MySQLSet) Covers(g MySQLGTID) bool {
	tags, ok := p.s[g.SID]
	if !ok {
		return false
	}
	for _, in := range tags[gomysql.NewTag(g.Tag)] {
		if g.GNO >= in.Start && g.GNO < in.Stop {
			return true
		}
	}
	return false
}

// Advance adds g to the set (p must come from ParseMySQLSet or Clone).
func (p *MySQLSet) Advance(g MySQLGTID) {
	if p.s == nil {
		p.s = gomysql.NewMysqlGTIDSet()
	}
	p.s.AddGTIDWithTag(g.SID, gomysql.NewTag(g.Tag), g.GNO)
}

// Behind reports whether q has a transaction p lacks.
func (p MySQLSet) Behind(q MySQLSet) bool { return !p.ptr().Contain(q.ptr()) }

// EarliestMySQL is the set from which one reader serves every one of
// sets: the transactions all of them have seen (their intersection).
// Reading from it, each stream skips what its own set covers.
func EarliestMySQL(sets []MySQLSet) MySQLSet {
	if len(sets) == 0 {
		return MySQLSet{s: gomysql.NewMysqlGTIDSet()}
	}
	out := sets[0].Clone()
	for _, q := range sets[1:] {
		next := gomysql.NewMysqlGTIDSet()
		for sid, tags := range out.s {
			for tag, ins := range tags {
				common := intersect(ins, q.s[sid][tag])
				if len(common) == 0 {
					continue
				}
				if next[sid] == nil {
					next[sid] = map[gomysql.Tag]gomysql.IntervalSlice{}
				}
				next[sid][tag] = common
			}
		}
		out = MySQLSet{s: next}
	}
	return out
}

// intersect is the intersection of two normalized interval lists
// (half-open [Start, Stop), sorted, disjoint).
func intersect(a, b gomysql.IntervalSlice) gomysql.IntervalSlice {
	var out gomysql.IntervalSlice
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Start, b[j].Start), min(a[i].Stop, b[j].Stop)
		if lo < hi {
			out = append(out, gomysql.Interval{Start: lo, Stop: hi})
		}
		if a[i].Stop < b[j].Stop {
			i++
		} else {
			j++
		}
	}
	return out
}
