package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// A project without failover pairs (the seed without its _backup
// connection) still has a status: exit 0, a line saying there are no
// pairs, each connection's last jobs and scratch dirs, in text and JSON.
func TestCLI_StatusWithoutPairsShowsEachConnectionsJobsAndScratch(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), nil)
	if err := os.RemoveAll(filepath.Join(p.Dir, "connections", "connection_mysql_s3_acode_backup")); err != nil {
		t.Fatal(err)
	}
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	job, err := st.CreateJob(ctx, "connection_mysql_local_acode", "primary", "test:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishJob(ctx, job.ID, state.JobFailed, "primary_db_down: connection refused", 0, 0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	left, err := scratch.Dir{Root: proj.Settings.Sync.SpoolDir}.Create("connection_mysql_s3_acode", 42)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "part-1.parquet"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := acode(t, p, "status")
	if code != 0 {
		t.Fatalf("status without pairs: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"No failover pairs", "Connection connection_mysql_local_acode", "Connection connection_mysql_s3_acode ",
		"primary_db_down: connection refused",
		"jobs:     none yet", "(jobs 42)"} {
		if !strings.Contains(out, want) {
			t.Errorf("status without pairs lacks %q:\n%s", want, out)
		}
	}

	if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s+%d\s+connection_mysql_local_acode\s+primary\s+failed\s`, job.ID)).MatchString(out) {
		t.Errorf("status without pairs does not list job %d of the local connection:\n%s", job.ID, out)
	}

	out, stderr, code = acode(t, p, "status", "--json")
	var rep failover.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("status --json without pairs: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	if rep.NoPairs == "" || len(rep.Pairs) != 0 || len(rep.Connections) != 2 {
		t.Fatalf("status --json without pairs: %s", out)
	}
	local, s3 := rep.Connections[0], rep.Connections[1]
	if local.Connection != "connection_mysql_local_acode" || len(local.Jobs) != 1 || local.Jobs[0].Status != state.JobFailed {
		t.Errorf("status --json: the local connection's jobs: %+v", local)
	}
	if s3.Connection != "connection_mysql_s3_acode" || len(s3.Scratch) != 1 || s3.Scratch[0].JobID != 42 || s3.Scratch[0].Bytes != 4096 {
		t.Errorf("status --json: the s3 connection's scratch: %+v", s3)
	}

	if out, _, code := acode(t, p, "status", "connection_mysql_local_acode"); code != 0 || strings.Contains(out, "connection_mysql_s3_acode") {
		t.Errorf("status of one connection: exit %d\n%s", code, out)
	}
	if _, stderr, code := acode(t, p, "status", "connection_nope"); code != exitConfig || !strings.Contains(stderr, "connection_nope") {
		t.Errorf("status of an unknown connection: exit %d %s", code, stderr)
	}
}
