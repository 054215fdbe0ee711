package cdc

import (
	"errors"
	"testing"
)

func TestPosition_ParseCoverAdvanceEarliest(t *testing.T) {
	p, err := ParsePosition("1-2-50, 0-1-100")
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != "0-1-100,1-2-50" {
		t.Errorf("String = %q", p.String())
	}
	for g, want := range map[GTID]bool{{0, 1, 100}: true, {0, 3, 99}: true, {0, 1, 101}: false, {2, 1, 1}: false, {1, 2, 50}: true} {
		if p.Covers(g) != want {
			t.Errorf("Covers(%s) = %v", g, !want)
		}
	}
	q := p.Clone()
	q.Advance(GTID{0, 3, 101}) // a promoted replica continues the domain's sequence
	q.Advance(GTID{0, 1, 7})   // an older one moves nothing
	q.Advance(GTID{2, 1, 1})
	if q.String() != "0-3-101,1-2-50,2-1-1" || p.String() != "0-1-100,1-2-50" {
		t.Errorf("after Advance: %s (clone) %s (original)", q, p)
	}
	if !p.Behind(q) || q.Behind(p) {
		t.Errorf("Behind: p behind q %v, q behind p %v", p.Behind(q), q.Behind(p))
	}
	if e := Earliest([]Position{q, p}); e.String() != "0-1-100,1-2-50" {
		t.Errorf("Earliest = %s: a domain one stream has not seen is read from its start", e)
	}
	for _, bad := range []string{"0-1", "a-1-2", "0-1-2,0-1-3"} {
		if _, err := ParsePosition(bad); !errors.Is(err, ErrBadGTID) {
			t.Errorf("ParsePosition(%q) = %v, want ErrBadGTID", bad, err)
		}
	}
	if e, _ := ParsePosition(""); len(e) != 0 {
		t.Errorf("empty position: %v", e)
	}
}
