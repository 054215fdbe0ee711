// Package layering states the order acode's packages are stacked in, so a
// test can keep data flowing one way: config -> plan -> read -> encode ->
// store -> commit -> report, with redundancy and the service above. A
// package may import packages of its own stage or a lower one, never a
// higher one; the test beside this file checks every package of the module
// with `go list` and fails on an upward import or a package left out of
// Stages.
package layering

import (
	"fmt"
	"slices"
)

// Module is the module path every stage name is relative to.
const Module = "github.com/acode-dev/acode"

// Stages lists each package by stage, lowest first. A new package goes in
// the lowest stage whose packages it needs.
var Stages = [][]string{
	// Facts every layer shares: configuration, the table description,
	// failure classes and severities, the state store, path rules.
	// The MySQL driver, the scratch directory and the example project are
	// here too: they import nothing of acode's.
	{"internal/config", "internal/schema", "internal/failure", "internal/state", "internal/layout",
		"internal/mysqldriver", "internal/scratch", "internal/humanize", "internal/layering", "internal/sandbox", "internal/demo", "examples"},
	// Backends: read MySQL, encode Parquet, store objects; statistics
	// gathered while encoding.
	{"internal/mysql", "internal/parquet", "internal/stats", "internal/storage", "internal/storage/file",
		"internal/storage/s3", "internal/storage/storagetest", "internal/connect", "internal/configexport",
		"internal/lifecycle"},
	// The commit protocol over a store.
	{"internal/snapshot"},
	// A job: sync (and change data capture), the quality gate beside its
	// commit, the drift check before it; promotion of a committed snapshot;
	// the health checks.
	{"internal/syncer", "internal/cdc", "internal/quality", "internal/quality/validate",
		"internal/drift", "internal/preflight", "internal/promote", "internal/health"},
	// Redundancy: the failover machine and what runs a pair's sync with it.
	{"internal/failover", "internal/pairsync", "internal/reconcile", "internal/archive"},
	// The service: job runner, schedules, HTTP, alerts, the leader among
	// several serve processes.
	{"internal/jobs", "internal/schedule", "internal/server/metrics", "internal/server/page", "internal/server",
		"internal/alert", "internal/cluster", "internal/report", "internal/hadrill"},
	// Commands and what only tests and tools use.
	{"cmd/acode", "bench", "deploy", "internal/testenv", "internal/demo/demotest"},
}

// Forbidden are imports the stage order alone allows but the design does
// not: the failover machine decides in its own terms, without knowing how
// a job syncs, how quality is judged, how MySQL is read or how the health
// checks run; the status page is served by the server, not the reverse.
var Forbidden = map[string][]string{
	"internal/failover":    {"internal/syncer", "internal/quality", "internal/mysql", "internal/health"},
	"internal/server/page": {"internal/server"},
}

// Violations returns what breaks the order in imports, which maps each
// package of the module (its path relative to Module) to the module
// packages it imports: an import of a higher stage, a forbidden import,
// or a package without a stage. Nil means the layering holds.
func Violations(imports map[string][]string) []string {
	stage := map[string]int{}
	for i, pkgs := range Stages {
		for _, p := range pkgs {
			stage[p] = i
		}
	}
	var out []string
	for _, pkg := range sortedKeys(imports) {
		s, ok := stage[pkg]
		if !ok {
			out = append(out, pkg+": no stage in layering.Stages: add it to the lowest stage whose packages it needs")
			continue
		}
		for _, imp := range imports[pkg] {
			if t, ok := stage[imp]; ok && t > s {
				out = append(out, fmt.Sprintf("%s (stage %d) imports %s (stage %d): an import from a lower stage to a higher one", pkg, s, imp, t))
			}
			if slices.Contains(Forbidden[pkg], imp) {
				out = append(out, fmt.Sprintf("%s imports %s: forbidden (see layering.Forbidden)", pkg, imp))
			}
		}
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
