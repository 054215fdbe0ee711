package reconcile

import "testing"

// acode reconcile exits 1 exactly when a broken or partial primary day is
// left as it was.
func TestAction_UnrepairedIsABrokenDayNotFixed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		primary Day
		did     Outcome
		want    bool
	}{
		{Valid, Nothing, false},
		{Missing, Promoted, false},
		{Damaged, WouldPromote, false},
		{Partial, Merged, false},
		{Quarantined, WouldMerge, false},
		{Missing, Skipped, true},
		{Quarantined, Nothing, true},
		{Damaged, Skipped, true},
	} {
		if got := (Action{Primary: c.primary, Did: c.did}).Unrepaired(); got != c.want {
			t.Errorf("primary %s, did %s: Unrepaired = %t, want %t", c.primary, c.did, got, c.want)
		}
	}
}
