package reconcile

// Day is what reconcile found of one side's partition of a day.
type Day string

// States of a day's partition.
const (
	Valid       Day = "valid"
	Missing     Day = "missing"
	Damaged     Day = "damaged"     // a file gone or not matching its manifest
	Quarantined Day = "quarantined" // its latest job's snapshot was set aside by the quality gate
	Partial     Day = "partial"     // intact, but the backup holds keys it lacks or newer versions of them
	NotChecked  Day = "not checked" // the backup's, when the primary's needed nothing from it
)

// Outcome is what reconcile did (or, in a dry run, would do) about a day
// of a stream.
type Outcome string

// Outcomes of an Action. A Skipped action says why in its Detail.
const (
	Nothing      Outcome = "nothing"
	Promoted     Outcome = "promoted"
	WouldPromote Outcome = "would promote"
	Merged       Outcome = "merged"
	WouldMerge   Outcome = "would merge"
	Skipped      Outcome = "skipped"
)

// Repairs says whether the outcome fixes (or would fix) the primary's day.
func (o Outcome) Repairs() bool {
	switch o {
	case Promoted, WouldPromote, Merged, WouldMerge:
		return true
	}
	return false
}

// Unrepaired says the primary's day is broken or partial and the action
// does not fix it: `acode reconcile` exits 1 on one.
func (a Action) Unrepaired() bool { return a.Primary != Valid && !a.Did.Repairs() }
