package layering

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// moduleImports lists every package of the module with the module packages
// its non-test files import, as `go list` sees the tree.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", Module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkg, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		imports[pkg] = []string{}
		for _, imp := range p.Imports {
			if rel, ok := relative(imp); ok {
				imports[pkg] = append(imports[pkg], rel)
			}
		}
	}
	if len(imports) < 20 {
		t.Fatalf("go list found only %d packages of %s: %v", len(imports), Module, imports)
	}
	return imports
}

func relative(path string) (string, bool) {
	return strings.CutPrefix(path, Module+"/")
}

func TestLayering_NoPackageImportsAHigherStage(t *testing.T) {
	for _, v := range Violations(moduleImports(t)) {
		t.Error(v)
	}
}

// The check itself: an upward import, a forbidden one and an unplaced
// package are each reported; same-stage and downward imports are not.
func TestViolations_ReportsUpwardForbiddenAndUnplaced(t *testing.T) {
	got := Violations(map[string][]string{
		"internal/snapshot": {"internal/storage", "internal/syncer"},
		"internal/syncer":   {"internal/quality", "internal/snapshot"},
		"internal/failover": {"internal/health", "internal/failure"},
		"internal/newthing": {},
	})
	want := []string{
		"internal/failover imports internal/health: forbidden",
		"internal/newthing: no stage",
		"internal/snapshot (stage 2) imports internal/syncer (stage 3)",
	}
	if len(got) != len(want) {
		t.Fatalf("violations:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("violation %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
}
