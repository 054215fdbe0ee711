package cdc_test

import (
	"encoding/json"
	"errors"
	"os/exec"
	"testing"
)

// checkJSON runs `acode check --json` on the CDC connection.
func checkJSON(t *testing.T, e *cdcEnv) (map[string]any, int) {
	t.Helper()
	cmd := exec.Command(buildAcode(t), "--config", e.project.Dir, "check", "--json", cdcConnection)
	cmd.Env = e.project.Environ()
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Connections []struct {
			CDC map[string]any `json:"cdc"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Connections) != 1 || rep.Connections[0].CDC == nil {
		t.Fatalf("acode check --json: %v: %s", err, out)
	}
	return rep.Connections[0].CDC, code
}

func TestAcodeCheck_VerifiesTheBinlogSettingsOfTheServerRead(t *testing.T) {
	t.Parallel()
	e := newCDCEnv(t)
	cdc, code := checkJSON(t, e)
	if code != 0 || cdc["server"] != "source_mysql_acode_backup" {
		t.Fatalf("set up for CDC: exit %d, cdc %v", code, cdc)
	}
	e.replica.Exec(t, "SET GLOBAL binlog_row_metadata = 'MINIMAL'")
	cdc, code = checkJSON(t, e)
	if code != 1 {
		t.Errorf("binlog_row_metadata MINIMAL: exit %d, want 1", code)
	}
	found := false
	for _, f := range cdc["findings"].([]any) {
		m := f.(map[string]any)
		if m["check"] == "binlog_row_metadata" {
			found = m["ok"] == false && m["have"] == "MINIMAL" && m["fix"] != ""
		} else if m["ok"] != true {
			t.Errorf("unexpected failed finding %v", m)
		}
	}
	if !found {
		t.Errorf("binlog_row_metadata not reported with its fix: %v", cdc["findings"])
	}
}
