package cdc

import (
	"errors"
	"testing"
)

// MySQL cannot run on this machine (the sandbox has MariaDB only), so the
// MySQL GTID sets are tested here on the text MySQL prints.

const (
	uuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	uuidB = "8a94f357-aab4-11df-86ab-c80aa9429562"
)

func mustSet(t *testing.T, s string) MySQLSet {
	t.Helper()
	p, err := ParseMySQLSet(s)
	if err != nil {
		t.Fatalf("ParseMySQLSet(%q): %v", s, err)
	}
	return p
}

func mustGTID(t *testing.T, s string) MySQLGTID {
	t.Helper()
	g, err := ParseMySQLGTID(s)
	if err != nil {
		t.Fatalf("ParseMySQLGTID(%q): %v", s, err)
	}
	return g
}

func TestMySQLSet_ParsePrintCoverAdvance(t *testing.T) {
	// As @@gtid_executed prints it: upper-case UUIDs, a newline after each
	// comma, a gap (parallel apply).
	p := mustSet(t, "8A94F357-AAB4-11DF-86AB-C80AA9429562:1-10,\n3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7-9")
	if got, want := p.String(), uuidA+":1-5:7-9,"+uuidB+":1-10"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	for g, want := range map[string]bool{uuidA + ":5": true, uuidA + ":6": false, uuidA + ":7": true, uuidA + ":10": false,
		uuidB + ":1": true, uuidB + ":11": false, "00000000-0000-0000-0000-000000000001:1": false} {
		if p.Covers(mustGTID(t, g)) != want {
			t.Errorf("Covers(%s) = %v", g, !want)
		}
	}
	before := p.Clone()
	p.Advance(mustGTID(t, uuidA+":6")) // the gap fills: one interval
	p.Advance(mustGTID(t, uuidB+":11"))
	if got, want := p.String(), uuidA+":1-9,"+uuidB+":1-11"; got != want {
		t.Errorf("after Advance: %q, want %q", got, want)
	}
	if before.String() != uuidA+":1-5:7-9,"+uuidB+":1-10" {
		t.Errorf("Clone shares its intervals: %q", before.String())
	}
	if !before.Behind(p) || p.Behind(before) {
		t.Errorf("Behind: before %v, after %v", before.Behind(p), p.Behind(before))
	}
	var empty MySQLSet
	empty.Advance(mustGTID(t, uuidB+":3"))
	if empty.String() != uuidB+":3" || !empty.Covers(mustGTID(t, uuidB+":3")) {
		t.Errorf("Advance on the empty set: %q", empty.String())
	}
	tagged := mustSet(t, uuidA+":1-3:Nightly:1-2")
	if !tagged.Covers(mustGTID(t, uuidA+":nightly:2")) || tagged.Covers(mustGTID(t, uuidA+":nightly:3")) || !tagged.Covers(mustGTID(t, uuidA+":3")) {
		t.Errorf("tagged set %q covers wrongly", tagged.String())
	}
}

func TestEarliestMySQL_IsWhatEveryStreamHasSeen(t *testing.T) {
	a := mustSet(t, uuidA+":1-100,"+uuidB+":1-5")
	b := mustSet(t, uuidA+":1-40:50-120")
	got := EarliestMySQL([]MySQLSet{a, b})
	if want := uuidA + ":1-40:50-100"; got.String() != want {
		t.Errorf("EarliestMySQL = %q, want %q", got.String(), want)
	}
	// A reader from there misses nothing either stream lacks.
	for _, g := range []string{uuidA + ":45", uuidA + ":101", uuidB + ":1"} {
		x := mustGTID(t, g)
		if got.Covers(x) && (!a.Covers(x) || !b.Covers(x)) {
			t.Errorf("%s is skipped from the earliest set but a stream lacks it", g)
		}
	}
	if EarliestMySQL(nil).String() != "" {
		t.Error("EarliestMySQL of nothing is not empty")
	}
}

func TestParseMySQL_BadTextIsErrBadGTID(t *testing.T) {
	for _, s := range []string{"not-a-uuid:1", uuidA, uuidA + ":x", uuidA + ":0"} {
		if _, err := ParseMySQLGTID(s); !errors.Is(err, ErrBadGTID) {
			t.Errorf("ParseMySQLGTID(%q): %v, want ErrBadGTID", s, err)
		}
	}
	for _, s := range []string{"nonsense", uuidA + ":5-", "zz:1-2"} {
		if _, err := ParseMySQLSet(s); !errors.Is(err, ErrBadGTID) {
			t.Errorf("ParseMySQLSet(%q): %v, want ErrBadGTID", s, err)
		}
	}
	if p := mustSet(t, ""); p.String() != "" || p.Covers(mustGTID(t, uuidA+":1")) {
		t.Errorf("the empty set: %q", p.String())
	}
}

func TestFlavorOf(t *testing.T) {
	for v, want := range map[string]Flavor{"10.11.6-MariaDB-log": FlavorMariaDB, "11.4.2-MariaDB": FlavorMariaDB,
		"8.0.36": FlavorMySQL, "8.4.0-commercial": FlavorMySQL} {
		if got := FlavorOf(v); got != want {
			t.Errorf("FlavorOf(%q) = %s, want %s", v, got, want)
		}
	}
}
