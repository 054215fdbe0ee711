package alert

import (
	"context"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
)

// What serve's health loop hands the alerts: a health round and a pair's
// decision, as package health and package failover return them, become
// the conditions the sinks are told, keyed by the alert's typed kind.
func TestManager_HealthResultsAndFailoverReachTheSinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	recv := newReceiver(t)
	hook, err := NewWebhook(recv.URL("/hook"), nil)
	if err != nil {
		t.Fatal(err)
	}
	pd, err := NewPagerDuty(PagerDutyOptions{RoutingKey: routingKey, EventsURL: recv.URL("/pd")})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := New(ctx, Config{Store: openStore(t, t.TempDir()), Chat: []Sink{hook}, Pagers: []Sink{pd}})
	if err != nil {
		t.Fatal(err)
	}
	err = mgr.HealthResults(ctx, []health.Result{
		{Check: health.CheckConnectivity, Target: "source_mysql_acode", Status: failure.Critical, Message: "connection refused", Class: "primary_db_down"},
		{Check: health.CheckReplicationLag, Target: "source_mysql_acode_backup", Status: failure.OK, Value: "3s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = mgr.Failover(ctx, failover.Decision{Pair: "connection_mysql_s3_acode", State: failover.BackupActive,
		Alerts: []failover.Alert{{Key: "connection_mysql_s3_acode:both_unavailable", Kind: failover.AlertBothUnavailable,
			Severity: failure.Critical, Summary: "both down"}}})
	if err != nil {
		t.Fatal(err)
	}
	var conds []string
	for _, b := range recv.at("/hook") {
		conds = append(conds, b.Body["condition"].(string))
	}
	want := "check/mysql_connectivity/source_mysql_acode,sources_unavailable/connection_mysql_s3_acode,primary_unavailable/connection_mysql_s3_acode"
	if strings.Join(conds, ",") != want {
		t.Errorf("conditions sent: %v, want %s", conds, want)
	}
	// Critical escalation 0 here: the critical check and both-unavailable page.
	if p := recv.at("/pd"); len(p) != 3 || p[1].Body["dedup_key"] != "acode/sources_unavailable/connection_mysql_s3_acode" {
		t.Errorf("pages: %v", p)
	}
}
