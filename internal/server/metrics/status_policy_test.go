package metrics

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// While both sources are unavailable the state is still primary_active,
// but no sync reads anything: with the policy, no source is active.
func TestStatus_WithPolicyNoSourceIsActiveWhileBothAreUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pair := failover.Pair{Primary: "conn", Backup: "conn_backup", PrimarySource: "src", BackupSource: "src_backup"}
	withPolicy, stateOnly := New(), New()
	withPolicy.MustRegister(NewStatus(st, []failover.Pair{pair}, nil).WithPolicy(failover.DefaultPolicy()))
	stateOnly.MustRegister(NewStatus(st, []failover.Pair{pair}, nil))
	if _, err := st.UpdateFailover(ctx, "conn", state.FailoverState{State: "primary_active"}, func(s *state.FailoverState) ([]state.FailoverTransition, error) {
		s.Failures, s.LastClass, s.LastError = 2, string(failure.ClassPrimaryDBDown), "connection refused"
		s.BackupUnreachable = "connection refused"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, withPolicy)
	for _, want := range []string{
		`acode_active_source{pair="conn",role="primary",source="src"} 0`,
		`acode_active_source{pair="conn",role="backup",source="src_backup"} 0`,
		`acode_failover_state{pair="conn",state="primary_active"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape with the policy lacks %s:\n%s", want, body)
		}
	}
	if body := scrape(t, stateOnly); !strings.Contains(body, `acode_active_source{pair="conn",role="primary",source="src"} 1`) {
		t.Errorf("without a policy the gauge follows the stored state:\n%s", body)
	}
}
