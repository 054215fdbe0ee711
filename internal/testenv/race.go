//go:build race

package testenv

// RaceEnabled says the test binary was built with -race.
const RaceEnabled = true
