package cdc

import "testing"

func TestCommonPoint_TheLastTransactionOfTheOldPrimaryTheServerHas(t *testing.T) {
	from, _ := ParsePosition("0-1-79,5-7-10")
	// The promoted server (id 2) got the old primary's transactions up to
	// 72, then wrote its own from 73; domain 5 it has in full.
	st, err := parseBinlogState("0-1-72,0-2-80,5-7-12")
	if err != nil {
		t.Fatal(err)
	}
	to, orphans, ok := commonPoint(from, st)
	if !ok || to.String() != "0-1-72,5-7-10" || len(orphans) != 7 || orphans[0].String() != "0-1-73" || orphans[6].String() != "0-1-79" {
		t.Fatalf("commonPoint = %s %v %v", to, orphans, ok)
	}
	for g, want := range map[GTID]bool{{0, 1, 73}: true, {0, 1, 72}: false, {5, 7, 11}: false, {0, 2, 74}: true} {
		if orphanOf(g, from, to) != want {
			t.Errorf("orphanOf(%s) = %v", g, !want)
		}
	}
	d := Divergence{Orphans: orphans}
	if got := d.OrphanList(3); got != "0-1-73, 0-1-74, 0-1-75 and 4 more" {
		t.Errorf("OrphanList = %q", got)
	}
	// A server with every transaction (the position failed for another
	// reason) or none of the writer's: no rewind.
	for _, state := range []string{"0-1-79,5-7-10", "0-3-90,5-7-10"} {
		st, _ := parseBinlogState(state)
		if _, _, ok := commonPoint(from, st); ok {
			t.Errorf("state %s: a common point was found", state)
		}
	}
	if got := rewound(from, to).String(); got != "0-1-72,5-7-10" {
		t.Errorf("rewound = %s", got)
	}
}

func TestOrphanFiles_PicksTheFilesPastTheCommonPoint(t *testing.T) {
	from, _ := ParsePosition("0-1-79")
	to, _ := ParsePosition("0-1-72")
	keys := []string{"p/f_20261206_0-1-1_0-1-40.parquet", "p/f_20261206_0-1-41_0-1-75.parquet",
		"p/f_20261206_0-1-76_0-1-79.parquet", "p/f_20261206_0-1-73_0-1-79_retracted.parquet"}
	picked, older := orphanFiles(keys, from, to)
	if len(picked) != 2 || picked[0] != keys[1] || picked[1] != keys[2] || !older {
		t.Errorf("orphanFiles = %v, older %v", picked, older)
	}
}
