package failure

// Severity is how bad something is, in one vocabulary for health verdicts
// (ok, warning, critical), failover and alert conditions (info, warning,
// critical) and quality rules (warning, error). Each user takes the values
// it needs; they all compare on one scale.
type Severity string

const (
	OK       Severity = "ok"       // a health check passed
	Info     Severity = "info"     // worth telling, nothing to do
	Warning  Severity = "warning"  // look at it; nothing is blocked
	Error    Severity = "error"    // a quality rule whose failure blocks the commit
	Critical Severity = "critical" // act now: a check is failing, pages go out
)

// Rank orders severities: "" (none) < ok < info < warning < error <
// critical; an unknown value ranks with "".
func (s Severity) Rank() int {
	switch s {
	case OK:
		return 1
	case Info:
		return 2
	case Warning:
		return 3
	case Error:
		return 4
	case Critical:
		return 5
	}
	return 0
}

// Worse reports whether s is more severe than o.
func (s Severity) Worse(o Severity) bool { return s.Rank() > o.Rank() }
