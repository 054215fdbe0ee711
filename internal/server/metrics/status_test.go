package metrics

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/state"
)

func TestStatus_ExportsTheStoresHealthAndFailoverState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pair := failover.Pair{Primary: "conn", Backup: "conn_backup", PrimarySource: "src", BackupSource: "src_backup"}
	r := New()
	r.MustRegister(NewStatus(st, []failover.Pair{pair}, nil).WithConnections(map[string][]string{"conn": {"diario"}, "conn_backup": {"diario", "produtos"}}))

	// Before anything ran: the primary is active, nothing failed.
	body := scrape(t, r)
	for _, want := range []string{
		`acode_active_source{pair="conn",role="primary",source="src"} 1`,
		`acode_active_source{pair="conn",role="backup",source="src_backup"} 0`,
		`acode_failovers_total{pair="conn"} 0`,
		`acode_consecutive_failures{pair="conn"} 0`,
		`acode_state_readable 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("fresh scrape lacks %s", want)
		}
	}

	now := time.Now()
	if err := st.RecordHealth(ctx, []state.HealthRecord{
		{Check: "mysql_connectivity", Target: "src", Status: "critical", Time: now},
		{Check: "mysql_connectivity", Target: "src_backup", Status: "ok", Time: now},
		{Check: "replication_lag", Target: "src_backup", Status: "warning", Time: now},
	}); err != nil {
		t.Fatal(err)
	}
	lag, yes := int64(420), true
	if _, err := st.UpdateFailover(ctx, "conn", state.FailoverState{State: "primary_active"}, func(s *state.FailoverState) ([]state.FailoverTransition, error) {
		s.State, s.Failures, s.BackupLagSeconds, s.BackupReplicating = "backup_active", 4, &lag, &yes
		return []state.FailoverTransition{{From: "primary_active", To: "backup_active", Who: "auto"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	done, _ := st.CreateJob(ctx, "conn_backup", "backup", "me:1")
	if err := st.FinishJob(ctx, done.ID, state.JobSucceeded, "", 1, 1); err != nil {
		t.Fatal(err)
	}
	job, _ := st.CreateJob(ctx, "conn_backup", "backup", "me:1")
	if err := st.SetJobStatus(ctx, job.ID, state.JobRunning, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveQualityReport(ctx, state.QualityReport{JobID: job.ID, Connection: "conn_backup", Stream: "diario", Score: 0.85}); err != nil {
		t.Fatal(err)
	}

	body = scrape(t, r)
	for _, want := range []string{
		`acode_health_check_status{check="mysql_connectivity",target="src"} 2`,
		`acode_health_check_status{check="mysql_connectivity",target="src_backup"} 0`,
		`acode_health_check_status{check="replication_lag",target="src_backup"} 1`,
		`acode_source_available{pair="conn",role="primary",source="src"} 0`,
		`acode_source_available{pair="conn",role="backup",source="src_backup"} 1`,
		`acode_active_source{pair="conn",role="primary",source="src"} 0`,
		`acode_active_source{pair="conn",role="backup",source="src_backup"} 1`,
		`acode_failover_state{pair="conn",state="backup_active"} 1`,
		`acode_replication_lag_seconds{pair="conn",source="src_backup"} 420`,
		`acode_failovers_total{pair="conn"} 1`,
		`acode_consecutive_failures{pair="conn"} 4`,
		`acode_running_job_seconds{connection="conn_backup"}`,
		`acode_quality_score{connection="conn_backup",stream="diario"} 0.85`,
		`acode_last_success_age_seconds{connection="conn_backup"} `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}

	// A closed store: the job metrics are still served, and the scrape says
	// the status metrics are missing.
	st.Close()
	body = scrape(t, r)
	if strings.Contains(body, `stream="produtos"`) || strings.Contains(body, `age_seconds{connection="conn"}`) {
		t.Error("a stream without a quality report has a score, or a connection that never succeeded an age")
	}
	if !strings.Contains(body, "acode_state_readable 0") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("scrape with an unreadable store:\n%s", body)
	}
}
