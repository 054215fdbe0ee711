package page

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/state"
)

// fill records what a night with trouble leaves in the store: checks in
// three colours, a failover to the backup, jobs, partitions of each kind
// and an open alert.
func (e *env) fill() {
	e.t.Helper()
	ctx := context.Background()
	st := e.state
	at := e.now.Add(-2 * time.Minute)
	if err := st.RecordHealth(ctx, []state.HealthRecord{
		{Check: "mysql_connectivity", Target: "source_mysql_acode", Status: "critical", Value: "unreachable", Threshold: "30s",
			Message: "dial tcp 10.0.0.5:3306: connect: connection refused", Time: at},
		{Check: "mysql_connectivity", Target: "source_mysql_acode_backup", Status: "ok", Value: "12ms", Threshold: "30s", Message: "answered", Time: at},
		{Check: "replication_lag", Target: "source_mysql_acode_backup", Status: "warning", Value: "6m0s", Threshold: "5m0s / 10m0s",
			Message: "replicating, 6m0s behind the primary", Time: at},
	}); err != nil {
		e.t.Fatal(err)
	}
	m := failover.New(st, e.pairs[0], failover.DefaultPolicy())
	if _, err := m.Failover(ctx, "cli:maria", "primary down since 02:10, DBA paged"); err != nil {
		e.t.Fatal(err)
	}
	for _, j := range []struct {
		conn, source string
		status       state.JobStatus
		rows         int64
		msg          string
	}{
		{primary, "primary", state.JobFailed, 0, "source: connect to source_mysql_acode: connection refused"},
		{backup, "backup", state.JobSucceeded, 1234567, ""},
	} {
		job, err := st.CreateJob(ctx, j.conn, j.source, state.DefaultOwner())
		if err != nil {
			e.t.Fatal(err)
		}
		if err := st.FinishJob(ctx, job.ID, j.status, j.msg, j.rows, j.rows*100); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := st.SaveQualityReport(ctx, state.QualityReport{JobID: 2, Connection: backup, Stream: "farmarcas_si_analitico_diario",
		Partition: "origin=airbyte/database=bronze_acode_backup/farmarcas_si_analitico_diario/cog_dt_ingestion=" + e.now.Format(time.DateOnly),
		Status:    "quarantined", Score: 0.6, Errors: 1, Warnings: 2}); err != nil {
		e.t.Fatal(err)
	}
	day := func(n int) string { return e.now.AddDate(0, 0, -n).Format(time.DateOnly) }
	part := func(stream string, n int) string {
		return "origin=airbyte/database=bronze_acode/" + stream + "/cog_dt_ingestion=" + day(n)
	}
	const diario = "farmarcas_si_analitico_diario"
	for _, c := range []state.Commit{
		{Connection: primary, Stream: diario, Partition: part(diario, 3), Status: state.CommitCommitted, Source: "primary", Rows: 10, JobID: 1},
		{Connection: primary, Stream: diario, Partition: part(diario, 2), Status: state.CommitPromoted, Source: "backup", Rows: 10, JobID: 2},
		{Connection: primary, Stream: diario, Partition: part(diario, 1), Status: state.CommitQuarantined, Source: "primary", Rows: 10, JobID: 3},
		{Connection: backup, Stream: diario, Partition: part(diario, 0), Status: state.CommitCommitted, Source: "backup", Rows: 10, JobID: 4},
	} {
		c.CommittedAt = e.now
		if err := st.RecordCommit(ctx, c); err != nil {
			e.t.Fatal(err)
		}
	}
	details, _ := json.Marshal(map[string]any{"title": "Primary unavailable", "message": "source_mysql_acode unreachable for 40m",
		"action": "Check the primary's host", "metrics": map[string]any{"lag": 3}})
	if err := st.SaveAlertCondition(ctx, state.AlertCondition{Key: "primary_down/" + primary, Severity: "critical",
		Since: e.now.Add(-40 * time.Minute), Paged: true, Details: string(details)}); err != nil {
		e.t.Fatal(err)
	}
}

// attr finds the elements whose opening tag holds every given attribute
// text and returns their tags.
func tags(html string, attrs ...string) []string {
	var out []string
	for _, tag := range regexp.MustCompile(`<[a-z]+[^>]*>`).FindAllString(html, -1) {
		ok := true
		for _, a := range attrs {
			if !strings.Contains(tag, a) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, tag)
		}
	}
	return out
}

func TestPage_ShowsActiveSourceChecksJobsPartitionsAndAlerts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.fill()
	html := e.page()

	for _, want := range []string{
		"reading the BACKUP: source_mysql_acode_backup", // the active source, in words
		"primary down since 02:10, DBA paged",           // why
		"by cli:maria",                                  // who
		"health: critical",                              // the banner
		"source_mysql_acode unreachable for 40m",        // the open alert
		"Check the primary&#39;s host",                  // what to do
		"1\u202f234\u202f567",                           // rows of the backup job
		"Fail back to primary",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Each check in its colour, worst first.
	for check, status := range map[string]string{"source_mysql_acode": "critical", "source_mysql_acode_backup": "ok"} {
		if len(tags(html, `data-check="mysql_connectivity"`, `data-target="`+check+`"`, `data-status="`+status+`"`)) != 1 {
			t.Errorf("no %s row for mysql_connectivity %s", status, check)
		}
	}
	if i, j := strings.Index(html, `data-status="critical"`), strings.Index(html, `data-status="warning"`); i < 0 || j < 0 || i > j {
		t.Errorf("critical check not listed before the warning one")
	}
	// The failed and the succeeded job.
	if len(tags(html, `class="job"`, `data-status="failed"`)) != 1 || len(tags(html, `class="job"`, `data-status="succeeded"`)) != 1 {
		t.Errorf("jobs: want one failed and one succeeded row")
	}
	// The calendar: the three kinds of partition on their days, missing
	// days, and today pending on the primary.
	day := func(n int) string { return e.now.AddDate(0, 0, -n).Format(time.DateOnly) }
	for n, want := range map[int]string{3: "committed", 2: "promoted", 1: "quarantined", 0: "pending", 4: "missing"} {
		if len(tags(html, `data-day="`+day(n)+`"`, `data-state="`+want+`"`)) == 0 {
			t.Errorf("no %s cell on %s", want, day(n))
		}
	}
	// The backup connection wrote today: its strip is shown, striped as backup data.
	if len(tags(html, `data-day="`+day(0)+`"`, `data-state="committed"`, "backup")) != 1 {
		t.Errorf("the backup's partition of today is not shown as backup data")
	}
	if len(tags(html, `class="quality"`, `data-stream="farmarcas_si_analitico_diario"`, `data-passed="false"`)) != 1 ||
		!strings.Contains(html, "60.0%") || !strings.Contains(html, "1 error</span>, 2 warning") {
		t.Errorf("the quarantined stream's quality score is not shown failing")
	}
	if len(tags(html, `data-day="`+day(1)+`"`, `data-state="unused"`)) != 3 {
		t.Errorf("the backup's days without a partition are not shown as unused")
	}
	if len(tags(html, `class="strip"`, `data-connection="`+primary+`"`)) != 3 {
		t.Errorf("want a strip per stream of %s", primary)
	}
}

func TestPage_BeforeAnythingRanSaysSo(t *testing.T) {
	t.Parallel()
	html := newEnv(t, false).page()
	for _, want := range []string{"no health check yet", "No health check has run yet", "No job yet", "reading the primary: source_mysql_acode", "initial state"} {
		if !strings.Contains(html, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
}

func TestPage_ShowsNoSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	e.fill()
	for _, path := range []string{"/", "/ui/page.js", "/ui/page.css"} {
		r := e.do("GET", path, false, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		for _, secret := range []string{apiPass, srcPass, awsSecret, "AKIAEXAMPLE"} {
			if strings.Contains(r.body, secret) {
				t.Errorf("GET %s shows a secret", path)
			}
		}
	}
}

func TestPage_NeedsCredentialsUnlessPublic(t *testing.T) {
	t.Parallel()
	closed := newEnv(t, false)
	if r := closed.do("GET", "/", false, ""); r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("GET / without credentials: %d %q, want 401 with a Basic challenge (the browser asks)", r.status, r.header.Get("WWW-Authenticate"))
	}
	if r := closed.do("GET", "/", true, ""); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("GET / with credentials: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := closed.do("GET", "/ui/page.css", false, ""); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("assets: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := closed.do("GET", "/api/nothing", false, ""); r.status != http.StatusNotFound {
		t.Errorf("unknown path: %d, want the API's 404", r.status)
	}
	open := newEnv(t, true)
	if r := open.do("GET", "/", false, ""); r.status != http.StatusOK {
		t.Errorf("public page without credentials: %d", r.status)
	}
}

func TestActions_FailoverAndFailbackRecordWhoAndWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx := context.Background()
	url := "/api/acode/pairs/" + primary

	if r := e.do("POST", url+"/failover", false, `{"reason":"x"}`); r.status != http.StatusUnauthorized {
		t.Fatalf("failover without credentials: %d, want 401", r.status)
	}
	if r := e.do("POST", url+"/failover", true, `{"reason":"x"}`, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Fatalf("failover from another site: %d, want 403", r.status)
	}
	if r := e.do("POST", url+"/failover", true, `{"reason":"x"}`, "Origin", "http://evil.example"); r.status != http.StatusForbidden {
		t.Fatalf("failover with a foreign Origin: %d, want 403", r.status)
	}
	if r := e.do("POST", "/api/acode/pairs/nope/failover", true, ""); r.status != http.StatusNotFound || !strings.Contains(r.body, primary) {
		t.Fatalf("unknown pair: %d %s, want 404 naming the pairs", r.status, r.body)
	}
	if st, err := e.state.FailoverState(ctx, primary); err == nil {
		t.Fatalf("refused requests changed the state: %+v", st)
	}

	r := e.do("POST", url+"/failover", true, `{"reason":"DB maintenance window"}`, "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusOK {
		t.Fatalf("failover: %d %s", r.status, r.body)
	}
	var d failover.Decision
	if err := json.Unmarshal([]byte(r.body), &d); err != nil || d.State != failover.BackupActive {
		t.Fatalf("failover answered %s (%v)", r.body, err)
	}
	trs, err := e.state.FailoverTransitions(ctx, primary, 1)
	if err != nil || len(trs) != 1 || trs[0].Who != "api:"+apiUser || trs[0].Reason != "DB maintenance window" || trs[0].To != "backup_active" {
		t.Fatalf("transition: %+v %v", trs, err)
	}
	if r := e.do("POST", url+"/failback", true, ""); r.status != http.StatusOK {
		t.Fatalf("failback: %d %s", r.status, r.body)
	}
	st, err := e.state.FailoverState(ctx, primary)
	if err != nil || st.State != "primary_active" || st.Reason != "manual failback" {
		t.Fatalf("after failback: %+v %v", st, err)
	}
	// Both switches were told to the hook (alerts), with their transitions.
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.switches) != 2 || e.switches[0].Transition == nil || e.switches[0].Transition.To != "backup_active" ||
		e.switches[1].Transition == nil || e.switches[1].Transition.To != "primary_active" {
		t.Errorf("OnSwitch heard %+v", e.switches)
	}
}
