package page

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

const local = "connection_mysql_local_acode"

// TestPage_InChromium runs a real sync against MariaDB and a real health
// check, records a failover through the API, then reads the page the way
// the person on call does: in a browser, with no console error, the backup
// shown as the active source, and a click that fails back.
func TestPage_InChromium(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	ctx := context.Background()
	demotest.Fill(t, m, database, demo.Options{Rows: 400, Seed: 7, Days: 2})
	tp := testenv.NewProject(t, m, database, nil)
	tp.Settings(t, "chunk_rows: 500")
	p, err := config.Load(tp.Dir, tp.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	e := serve(t, p, false)

	// A real health check of the project's sources and pipelines.
	checker := &health.Checker{Project: p, State: e.state}
	results, err := checker.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := checker.Record(ctx, results); err != nil {
		t.Fatal(err)
	}
	// A real sync, triggered through the API as Airflow would.
	r := e.do("POST", "/api/acode/connections/"+local+"/sync", true, "")
	if r.status != http.StatusAccepted {
		t.Fatalf("sync: %d %s", r.status, r.body)
	}
	var job struct{ ID int64 }
	if err := json.Unmarshal([]byte(r.body), &job); err != nil {
		t.Fatal(err)
	}
	synced := e.waitJob(job.ID)
	// A failover, recorded in the store through the API.
	if r := e.do("POST", "/api/acode/pairs/"+primary+"/failover", true, `{"reason":"drill: primary unreachable"}`); r.status != http.StatusOK {
		t.Fatalf("failover: %d %s", r.status, r.body)
	}

	b := testenv.Chromium(t)
	b.SetHeaders(map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(apiUser+":"+apiPass))})
	b.Do(chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("#partitions")))

	if got := b.Text(".pair-state"); !strings.Contains(got, "reading the BACKUP: source_mysql_acode_backup") {
		t.Errorf("active source shown as %q", got)
	}
	if got := b.Text(".why"); !strings.Contains(got, "drill: primary unreachable") || !strings.Contains(got, "api:"+apiUser) {
		t.Errorf("why and who shown as %q", got)
	}
	// Every check the checker ran is on the page, each in its colour.
	colours := map[string]string{"ok": "rgb(218, 251, 225)", "warning": "rgb(255, 241, 194)", "critical": "rgb(255, 235, 233)"}
	for _, res := range results {
		sel := `tr.check[data-check="` + res.Check + `"][data-target="` + res.Target + `"] .pill`
		got := testenv.Eval[string](b, `(() => { const el = document.querySelector('`+sel+`'); return el ? el.textContent + " " + getComputedStyle(el).backgroundColor : "absent"; })()`)
		if want := string(res.Status) + " " + colours[string(res.Status)]; got != want {
			t.Errorf("check %s %s: shown as %q, want %q", res.Check, res.Target, got, want)
		}
	}
	// The synced job and today's partitions.
	row := b.Text(`tr.job[data-job="` + itoa(job.ID) + `"]`)
	if !strings.Contains(row, "succeeded") || !strings.Contains(row, local) || !strings.Contains(row, thousands(synced.Rows)) {
		t.Errorf("job row %q: want succeeded, %s and %d rows", row, local, synced.Rows)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	committed := testenv.Eval[int](b, `document.querySelectorAll('tr.strip[data-connection="`+local+`"] .cell[data-day="`+today+`"][data-state="committed"]').length`)
	if committed != 3 {
		t.Errorf("today's committed partitions of %s on the page: %d, want 3 streams", local, committed)
	}
	b.Screenshot("status-page-backup-active")
	if probs := b.Problems(); len(probs) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(probs, "\n"))
	}

	// Fail back with the button: the prompt's reason is recorded.
	b.AnswerDialogs("primary is back (drill over)")
	b.Do(chromedp.Click(chromedp.CSS(`button[data-url="/api/acode/pairs/` + primary + `/failback"]`)))
	e.waitState("primary_active")
	st, err := e.state.FailoverState(ctx, primary)
	if err != nil || st.Reason != "primary is back (drill over)" || st.Who != "api:"+apiUser {
		t.Fatalf("failback from the page recorded %+v %v", st, err)
	}
	waitFor(t, "the page to reload with the primary active", func() bool {
		return strings.Contains(testenv.Eval[string](b, `(document.querySelector('.pair-state')||{}).textContent||""`), "reading the primary")
	})
	b.Screenshot("status-page-after-failback")
	if probs := b.Problems(); len(probs) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(probs, "\n"))
	}

	// An open critical alert escalated to its second level: the
	// Acknowledge button records who (the prompt's answer and the API user)
	// and the page shows it.
	now := time.Now().UTC()
	key := "sources_unavailable/" + primary
	if err := e.state.SaveAlertCondition(ctx, state.AlertCondition{Key: key, Severity: "critical", Since: now,
		CriticalSince: &now, EscalationPriority: "critical", EscalationLevel: 2, EscalatedAt: &now,
		Details: `{"title":"Syncs halted"}`}); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#alerts button.ack")))
	if got := b.Text("#alerts li"); !strings.Contains(got, "critical priority, escalated to level 2") {
		t.Errorf("escalated alert shown as %q", got)
	}
	b.AnswerDialogs("joao.silva")
	b.Do(chromedp.Click(chromedp.CSS(`button[data-url="/api/acode/alerts/` + key + `/ack"]`)))
	waitFor(t, "the ack to be recorded", func() bool {
		c, err := e.state.AlertCondition(ctx, key)
		return err == nil && c.AckedAt != nil
	})
	if c, _ := e.state.AlertCondition(ctx, key); c.AckedBy != "joao.silva (api:"+apiUser+")" {
		t.Errorf("ack from the page recorded by %q", c.AckedBy)
	}
	waitFor(t, "the page to reload with the ack", func() bool {
		return strings.Contains(testenv.Eval[string](b, `(document.querySelector('#alerts')||{}).textContent||""`), "acknowledged by joao.silva")
	})
	b.Screenshot("status-page-alert-acknowledged")
	if probs := b.Problems(); len(probs) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(probs, "\n"))
	}

	// /metrics tells the same story.
	body := e.do("GET", "/metrics", false, "").body
	for _, want := range []string{
		`acode_active_source{pair="` + primary + `",role="primary",source="source_mysql_acode"} 1`,
		`acode_failovers_total{pair="` + primary + `"} 1`,
		`acode_health_check_status{check="mysql_connectivity",target="source_mysql_acode"} 0`,
		`acode_jobs_total{connection="` + local + `",status="succeeded"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func (e *env) waitJob(id int64) state.Job {
	e.t.Helper()
	var j state.Job
	waitFor(e.t, "the sync to end", func() bool {
		var err error
		if j, err = e.state.Job(context.Background(), id); err != nil {
			e.t.Fatal(err)
		}
		return j.Status.Terminal()
	})
	if j.Status != state.JobSucceeded {
		e.t.Fatalf("job %d: %s %s", id, j.Status, j.Error)
	}
	return j
}

func (e *env) waitState(want string) {
	e.t.Helper()
	waitFor(e.t, "failover state "+want, func() bool {
		st, err := e.state.FailoverState(context.Background(), primary)
		return err == nil && st.State == want
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPage_InChromiumAfterABadNight shows every kind of cell, check and
// alert at once, in their colours.
func TestPage_InChromiumAfterABadNight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	e.fill()
	b := testenv.Chromium(t)
	b.Do(chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("#partitions")))
	day := func(n int) string { return e.now.AddDate(0, 0, -n).Format(time.DateOnly) }
	for n, want := range map[int]string{3: "rgb(45, 164, 78)", 2: "rgb(130, 80, 223)", 1: "rgb(207, 34, 46)", 4: "rgb(255, 255, 255)"} {
		sel := `tr.strip[data-connection="` + primary + `"] .cell[data-day="` + day(n) + `"]`
		got := testenv.Eval[string](b, `getComputedStyle(document.querySelector('`+sel+`')).backgroundColor`)
		if got != want {
			t.Errorf("cell of %s: %s, want %s", day(n), got, want)
		}
	}
	if got := testenv.Eval[string](b, `getComputedStyle(document.querySelector('header.top')).backgroundColor`); got != "rgb(207, 34, 46)" {
		t.Errorf("banner of a critical night: %s, want red", got)
	}
	if got := b.Text("#alerts li"); !strings.Contains(got, "Primary unavailable") || !strings.Contains(got, "paged") {
		t.Errorf("open alert shown as %q", got)
	}
	b.Screenshot("status-page-bad-night")
	if probs := b.Problems(); len(probs) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(probs, "\n"))
	}
}
