package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// An in-job failover leaves two jobs: the primary's, failed, continued by
// the backup's. `acode jobs` and `acode status` show both as they ran,
// with the link between them.
func TestCLI_JobsShowsAFailedPrimaryJobContinuedByTheBackupJob(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), nil)
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	primary, err := st.CreateJob(ctx, "connection_mysql_s3_acode", "primary", "test:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishJob(ctx, primary.ID, state.JobFailed, "network_partition: lost connection", 0, 0); err != nil {
		t.Fatal(err)
	}
	backup, err := st.CreateJob(ctx, "connection_mysql_s3_acode_backup", "backup", "test:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ContinueJob(ctx, primary.ID, backup.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishJob(ctx, backup.ID, state.JobSucceeded, "", 4200, 1<<20); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, errOut, code := acode(t, p, "jobs")
	if code != 0 {
		t.Fatalf("acode jobs: exit %d\n%s%s", code, out, errOut)
	}
	line := func(id int64) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, fmt.Sprintf("%d ", id)) {
				return l
			}
		}
		return ""
	}
	if l := line(primary.ID); !strings.Contains(l, "failed") || !strings.Contains(l, fmt.Sprintf("continued by %d", backup.ID)) ||
		!strings.Contains(l, "network_partition") {
		t.Errorf("the primary's job in acode jobs: %q\n%s", l, out)
	}
	if l := line(backup.ID); !strings.Contains(l, "succeeded") || !strings.Contains(l, "4200") || !strings.Contains(l, fmt.Sprintf("continues %d", primary.ID)) {
		t.Errorf("the backup's job in acode jobs: %q\n%s", l, out)
	}

	out, _, _ = acode(t, p, "jobs", "--json")
	var listed []state.Job
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("acode jobs --json: %v\n%s", err, out)
	}
	if len(listed) != 2 || listed[1].ID != primary.ID || listed[1].ContinuedBy != backup.ID || listed[0].ContinuedBy != 0 {
		t.Errorf("acode jobs --json: %s", out)
	}

	out, _, _ = acode(t, p, "status")
	if !strings.Contains(out, fmt.Sprintf("continued by %d", backup.ID)) {
		t.Errorf("acode status does not show the continuation:\n%s", out)
	}
}
