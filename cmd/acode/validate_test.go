package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI_ValidateReportsAndExitsBelowThreshold(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 2000, nil)
	out, errOut, code := acode(t, p, "sync", "--json", "connection_mysql_local_acode")
	if code != 0 {
		t.Fatalf("sync exit %d: %s %s", code, out, errOut)
	}
	var res syncJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	day := res.StartedAt.UTC().Format("2006-01-02")

	out, errOut, code = acode(t, p, "validate", "--date", day)
	if code != 0 || !strings.Contains(out, "connection_mysql_local_acode "+day+": PASSED") {
		t.Fatalf("validate of a clean day: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = acode(t, p, "validate", "--date", day, "--deep")
	if code != 0 || !strings.Contains(out, "PASSED") || !strings.Contains(out, ", 0 statistics differences (deep)") {
		t.Fatalf("validate --deep of a clean day: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := os.Remove(filepath.Join(p.LocalRoot(), res.Streams[1].Files[0])); err != nil {
		t.Fatal(err)
	}
	out, _, code = acode(t, p, "validate", "--date", day, "--connection", "connection_mysql_local_acode", "--json")
	var rep struct {
		Passed      bool
		Connections []struct {
			Score      float64
			Partitions []struct {
				Stream   string
				Problems []string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if code != 1 || rep.Passed || len(rep.Connections[0].Partitions[1].Problems) != 1 ||
		!strings.HasPrefix(rep.Connections[0].Partitions[1].Problems[0], "missing: ") {
		t.Errorf("validate after deleting a file: exit %d, %+v", code, rep)
	}
	out, _, code = acode(t, p, "validate", "--date", day, "--markdown")
	if code != 1 || !strings.Contains(out, "| FAIL | error | `integrity` |") {
		t.Errorf("--markdown: exit %d\n%s", code, out)
	}
	if _, _, code := acode(t, p, "validate", "--date", "2001-01-01"); code != exitConfig {
		t.Errorf("a day nothing was committed on: exit %d, want %d", code, exitConfig)
	}
}
