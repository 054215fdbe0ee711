package stats

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The table must count like a map through growth, colliding slots (hashes
// equal modulo the table size), hash 0 and merges.
func TestHashCounter_CountsLikeAMap(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	var c hashCounter
	want := map[uint64]int64{}
	add := func(h uint64, n int64) {
		c.add(h, n)
		want[h] += n
	}
	for i := range 5000 {
		add(r.Uint64(), 1)
		add(uint64(i)<<20|7, 2) // same low bits: every one collides with the others
	}
	add(0, 3)
	add(0, 1)
	for h := range want { // every value seen again
		add(h, 1)
	}
	if len(c.slots) < 2*5000+1 || len(c.slots)&(len(c.slots)-1) != 0 {
		t.Errorf("table has %d slots for %d hashes: want a power of two past 3/4 load", len(c.slots), len(want))
	}
	check(t, &c, want)
	for _, h := range []uint64{1, 7 | 1<<62, r.Uint64()} {
		if _, ok := want[h]; c.has(h) != ok {
			t.Errorf("has(%#x) = %v, want %v", h, c.has(h), ok)
		}
	}
	var empty hashCounter
	if empty.has(5) || empty.has(0) || empty.len() != 0 {
		t.Error("an empty table reports a hash")
	}
}

func TestHashCounter_Merge(t *testing.T) {
	t.Parallel()
	var a, b hashCounter
	want := map[uint64]int64{}
	for i := range uint64(3000) {
		a.add(i*0x9e3779b97f4a7c15, 1)
		want[i*0x9e3779b97f4a7c15]++
		b.add((i+1500)*0x9e3779b97f4a7c15, 2) // half overlap
		want[(i+1500)*0x9e3779b97f4a7c15] += 2
	}
	b.add(0, 4)
	want[0] += 4
	a.merge(&b)
	check(t, &a, want)
}

func check(t *testing.T, c *hashCounter, want map[uint64]int64) {
	t.Helper()
	if c.len() != len(want) {
		t.Errorf("len = %d, want %d", c.len(), len(want))
	}
	got := map[uint64]int64{}
	c.each(func(h uint64, n int64) {
		if _, dup := got[h]; dup {
			t.Errorf("hash %#x listed twice", h)
		}
		got[h] = n
	})
	for h, n := range want {
		if got[h] != n {
			t.Errorf("count of %#x = %d, want %d", h, got[h], n)
		}
	}
}

// Days past the scanned list go to the map; sums and merges stay exact.
func TestDailySums_ManyDaysAndMerge(t *testing.T) {
	t.Parallel()
	var a, b dailySums
	want := map[string]int64{}
	for i := range 200 {
		day := fmt.Sprintf("2025-%02d-%02d", 1+i%12, 1+i%28)
		a.add([]byte(day+" 10:00:00"), num{small: int64(i)})
		b.add([]byte(day), num{small: 1})
		want[day] += int64(i) + 1
	}
	a.merge(&b)
	got := map[string]string{}
	a.each(func(k dayKey, s *exactSum) { got[k.String()] = s.value().String() })
	if len(got) != len(want) {
		t.Errorf("%d days, want %d", len(got), len(want))
	}
	for day, n := range want {
		if got[day] != big.NewInt(n).String() {
			t.Errorf("sum of %s = %s, want %d", day, got[day], n)
		}
	}
}

// Days whose index slot another day took first must still get sums of
// their own.
func TestDailySums_DaysSharingASlot(t *testing.T) {
	t.Parallel()
	first := map[int]string{}
	var days []string // pairs of days sharing a slot
	for i := 0; len(days) < 8; i++ {
		day := fmt.Sprintf("%04d-%02d-%02d", 2000+i/336, 1+i/28%12, 1+i%28)
		at := dayKeyOf([]byte(day)).slot()
		if other, ok := first[at]; ok && other != "" {
			days = append(days, other, day)
			first[at] = "" // one pair per slot
		} else if !ok {
			first[at] = day
		}
	}
	var d dailySums
	want := map[string]int64{}
	for round := range 3 {
		for i, day := range days {
			d.addSmall([]byte(day), int64(i+1))
			want[day] += int64(i + 1)
			if round == 0 && i%2 == 1 && d.index[dayKeyOf([]byte(day)).slot()] == 0 {
				t.Fatalf("%s: its slot is empty, the test needs a taken one", day)
			}
		}
	}
	got := map[string]string{}
	d.each(func(k dayKey, s *exactSum) { got[k.String()] = s.value().String() })
	if len(got) != len(want) {
		t.Errorf("%d days, want %d", len(got), len(want))
	}
	for day, n := range want {
		if got[day] != big.NewInt(n).String() {
			t.Errorf("sum of %s = %s, want %d", day, got[day], n)
		}
	}
}
