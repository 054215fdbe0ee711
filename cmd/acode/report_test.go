package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/acode-dev/acode/internal/testenv"
)

type reportJSON struct {
	Availability []struct {
		Pair          string
		Rounds        int
		Usable        int
		Share         float64
		Met           bool
		BudgetMinutes float64 `json:"downtime_budget_minutes"`
	}
	Syncs struct {
		Jobs, Succeeded, Failed int
		Rows                    int64
		P50                     float64 `json:"duration_p50_seconds"`
	}
	Days []struct {
		Date string
		Jobs int
		Rows int64
	}
	Failovers []struct {
		Pair, Class, Who string
		DetectedAt       time.Time  `json:"detected_at"`
		SwitchedAt       time.Time  `json:"switched_at"`
		BackAt           *time.Time `json:"failed_back_at"`
		RTOMet           bool       `json:"rto_met"`
	}
	Quality []struct {
		Stream    string
		Reports   int
		MeanScore float64 `json:"mean_score"`
	}
	Storage []struct {
		Connection, Stream string
		Partitions         int
		Bytes              int64
		New                int   `json:"partitions_in_period"`
		RowsBefore         int64 `json:"rows_before"`
		RowsAtEnd          int64 `json:"rows_at_end"`
	}
}

func TestCLI_ReportWeeklyFromARealWeekOfSyncsChecksAndAFailover(t *testing.T) {
	t.Parallel()
	p, primary, _ := pairProject(t, 500, fmt.Sprintf(pairSettings, ""))
	var rows int64
	for i := 0; i < 2; i++ {
		out, errOut, code := acode(t, p, "sync", "--json", "connection_mysql_s3_acode")
		if code != 0 {
			t.Fatalf("sync: exit %d\n%s", code, errOut)
		}
		var r syncJSON
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Streams {
			rows += s.Rows
		}
	}
	acode(t, p, "health")
	primary.Kill(t)
	if _, _, code := acode(t, p, "health"); code != 2 {
		t.Fatalf("health with the primary down: exit %d, want 2", code)
	}
	primary.Restart(t)
	if out, errOut, code := acode(t, p, "failback", "--reason", "primary repaired"); code != 0 {
		t.Fatalf("failback: exit %d\n%s%s", code, out, errOut)
	}
	acode(t, p, "health")

	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	out, errOut, code := acode(t, p, "report", "weekly", "--end", tomorrow, "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	var r reportJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(r.Availability) != 1 || r.Availability[0].Rounds != 3 || r.Availability[0].Usable != 3 || !r.Availability[0].Met ||
		r.Availability[0].BudgetMinutes != 10.08 {
		t.Errorf("availability %+v: want 3 rounds, all usable (the backup answered), budget 10.08 min a week", r.Availability)
	}
	if r.Syncs.Jobs != 2 || r.Syncs.Succeeded != 2 || r.Syncs.Rows != rows || r.Syncs.P50 <= 0 {
		t.Errorf("syncs %+v, want 2 succeeded with %d rows", r.Syncs, rows)
	}
	if len(r.Days) != 7 || r.Days[6].Jobs != 2 || r.Days[6].Date != time.Now().UTC().Format(time.DateOnly) {
		t.Errorf("days %+v", r.Days)
	}
	if len(r.Failovers) != 1 {
		t.Fatalf("failovers %+v", r.Failovers)
	}
	f := r.Failovers[0]
	if f.Class != "primary_db_down" || f.Who != "auto" || f.BackAt == nil || f.DetectedAt.After(f.SwitchedAt) || !f.RTOMet {
		t.Errorf("failover %+v", f)
	}
	if len(r.Quality) != 3 || r.Quality[0].Reports != 2 || r.Quality[0].MeanScore <= 0 {
		t.Errorf("quality %+v", r.Quality)
	}

	// Both syncs wrote today's partition: one partition per stream, holding
	// the second sync's rows.
	if len(r.Storage) != 3 {
		t.Fatalf("storage %+v", r.Storage)
	}
	var stored int64
	for _, s := range r.Storage {
		if s.Connection != "connection_mysql_s3_acode" || s.Partitions != 1 || s.New != 1 || s.Bytes == 0 || s.RowsBefore != 0 {
			t.Errorf("storage %+v", s)
		}
		stored += s.RowsAtEnd
	}
	if stored*2 != rows {
		t.Errorf("rows at the end %d, want the last sync's %d", stored, rows/2)
	}

	md, _, _ := acode(t, p, "report", "weekly", "--end", tomorrow)
	for _, want := range []string{"# ACODE weekly report", "| connection_mysql_s3_acode | 3 | 3 | 100.000% | yes |", "primary_db_down"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	html, _, code := acode(t, p, "report", "weekly", "--end", tomorrow, "--format", "html")
	if code != 0 {
		t.Fatal("html report failed")
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	b := testenv.Chromium(t)
	b.Do(chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("#plot")))
	if n := testenv.Eval[int](b, `document.querySelectorAll('#plot rect.rows').length`); n != 7 {
		t.Errorf("%d day bars in the plot, want 7", n)
	}
	if h := testenv.Eval[float64](b, `document.querySelectorAll('#plot rect.rows')[6].getBBox().height`); h < 100 {
		t.Errorf("today's bar is %.0f px high, want the tallest (190)", h)
	}
	if n := testenv.Eval[int](b, `document.querySelectorAll('#plot circle.p50').length`); n != 7 {
		t.Errorf("%d duration points, want 7", n)
	}
	if probs := b.Problems(); len(probs) > 0 {
		t.Errorf("console problems: %v", probs)
	}
	b.Screenshot("report-weekly")
}
