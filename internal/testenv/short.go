package testenv

import "testing"

// SkipShort skips, with -short, a test that needs what (a server, or
// seconds of CPU): -short is `make test-short`, the quick tier of the tests
// that need no server (README, Tests). `make test` runs everything. The
// launchers here call it; tests that start servers another way (the demo,
// the benchmark) call it themselves.
func SkipShort(t testing.TB, server string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s; skipped with -short", server)
	}
}
