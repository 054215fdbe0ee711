package cdc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/cdc"
)

// alertRecorder is a webhook alert sink that keeps every alert's JSON.
type alertRecorder struct {
	mu     sync.Mutex
	alerts []map[string]any
	srv    *httptest.Server
}

func newAlertRecorder(t *testing.T) *alertRecorder {
	r := &alertRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var a map[string]any
		data, _ := io.ReadAll(req.Body)
		if json.Unmarshal(data, &a) == nil {
			r.mu.Lock()
			r.alerts = append(r.alerts, a)
			r.mu.Unlock()
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// find returns the first alert of condition, nil when none came.
func (r *alertRecorder) find(condition string) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.alerts {
		if a["condition"] == condition {
			return a
		}
	}
	return nil
}

// TestAcodeServe_RaisesCDCDivergedNamingTheOrphanGTIDs: the divergence of
// the in-process test under acode serve, whose alert sink is a webhook:
// cdc_diverged/<connection> arrives naming every orphan GTID.
func TestAcodeServe_RaisesCDCDivergedNamingTheOrphanGTIDs(t *testing.T) {
	t.Parallel()
	bin := buildAcode(t)
	e := startCDCServers(t)
	p := e.project
	p.Edit(t, "sources/source_mysql_acode/configuration.yaml", `method: "STANDARD"`, `method: "CDC"`)
	p.Edit(t, "connections/"+cdcConnection+"/configuration.yaml", "sync_mode: full_refresh", "sync_mode: incremental")
	writeSettings(t, p, "alerts:\n  webhook:\n    url_env: ACODE_ALERT_WEBHOOK_URL\n"+
		"failover:\n  pairs:\n    - primary: "+cdcConnection+"\n      backup: connection_mysql_s3_acode_backup\ncdc:\n  read_from: primary\n",
		[]string{"flush_interval: 1s", "switch_after: 2", "retry_max: 2s", "heartbeat: 1s", "read_timeout: 3s"})
	rec := newAlertRecorder(t)
	sp, _ := startServe(t, bin, e, "ACODE_ALERT_WEBHOOK_URL="+rec.srv.URL)
	sp.waitLog(t, "cdc reader starting", time.Minute)
	st := e.state(t)
	poll(t, time.Minute, "the first checkpoints", func() bool { return e.caughtUp(t, st, cdc.Position{}) })
	ctx := context.Background()
	w := newWriter(t, e.primary, e.database)
	if err := w.run(ctx, 30, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.replica.WaitReplicaCaughtUp(t, e.primary)
	e.replica.Exec(t, "STOP SLAVE IO_THREAD")
	common, err := cdc.CurrentPosition(ctx, e.replica.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.run(ctx, 4, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ahead := e.primaryPosition(t)
	poll(t, time.Minute, "the orphans to be landed from the primary", func() bool { return e.caughtUp(t, st, ahead) })
	e.primary.Kill(t)
	e.replica.Exec(t, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	condition := "cdc_diverged/" + cdcConnection
	var alert map[string]any
	poll(t, 2*time.Minute, "the "+condition+" alert", func() bool { alert = rec.find(condition); return alert != nil })
	orphans := orphanGTIDs(w, common)
	if len(orphans) != 4 {
		t.Fatalf("%d orphans in the writer's record, want 4", len(orphans))
	}
	text, _ := json.Marshal(alert)
	for _, g := range orphans {
		if !strings.Contains(string(text), g) {
			t.Errorf("the alert does not name orphan %s: %s", g, text)
		}
	}
	if alert["severity"] != "warning" || !strings.Contains(string(text), "source_mysql_acode_backup") {
		t.Errorf("alert: %s", text)
	}
	sp.terminate(t)
}
