package cdc_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestAcodeCDC_RefusesASecondReaderOnTheOtherSideOfAFailoverPair: both
// connections of a pair with CDC streams would be two readers on one
// logical source, every transaction landed twice; acode cdc of either side
// stops with a configuration error naming both connections and files.
func TestAcodeCDC_RefusesASecondReaderOnTheOtherSideOfAFailoverPair(t *testing.T) {
	t.Parallel()
	e := newCDCPairEnv(t)
	const backupConn = "connection_mysql_s3_acode_backup"
	e.project.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", `method: "STANDARD"`, `method: "CDC"`)
	e.project.Edit(t, "connections/"+backupConn+"/configuration.yaml", "sync_mode: full_refresh", "sync_mode: incremental")
	for _, conn := range []string{cdcConnection, backupConn} {
		cmd := exec.Command(buildAcode(t), "--config", e.project.Dir, "cdc", conn)
		cmd.Env = e.project.Environ()
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("acode cdc %s with CDC on both sides of its pair: %v, want exit 2 (configuration):\n%s", conn, err, out)
		}
		for _, want := range []string{cdcConnection, backupConn, "source_mysql_acode/configuration.yaml", "source_mysql_acode_backup/configuration.yaml", "one reader"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("acode cdc %s: the error does not name %q:\n%s", conn, want, out)
			}
		}
	}
}
