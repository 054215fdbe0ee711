package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

func TestCLI_ReconcileFillsAMissingDayFromTheBackupOnce(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 1500, s3)
	p.PointBackup(t, p.DB)
	out, errOut, code := acode(t, p, "sync", "--json", "connection_mysql_s3_acode_backup")
	if code != 0 {
		t.Fatalf("backup sync: exit %d %s %s", code, out, errOut)
	}
	var res syncJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	day := res.StartedAt.UTC().Format("2006-01-02")

	out, _, code = acode(t, p, "reconcile", "--date", day, "--dry-run")
	if code != 0 || strings.Count(out, "missing  valid   would promote") != 3 {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	out, _, code = acode(t, p, "reconcile", "--date", day, "--json")
	var acts struct {
		Actions []struct{ Stream, Primary, Did string }
	}
	if err := json.Unmarshal([]byte(out), &acts); err != nil || code != 0 {
		t.Fatalf("reconcile: exit %d %v\n%s", code, err, out)
	}
	for _, a := range acts.Actions {
		if a.Primary != "missing" || a.Did != "promoted" {
			t.Errorf("%+v", a)
		}
	}
	if out, _, code = acode(t, p, "validate", "--date", day, "--connection", "connection_mysql_s3_acode"); code != 0 {
		t.Errorf("the promoted day does not validate: exit %d\n%s", code, out)
	}
	out, _, code = acode(t, p, "reconcile", "--date", day)
	if code != 0 || strings.Count(out, "valid    not checked  nothing") != 3 {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
}
