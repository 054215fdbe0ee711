package metrics

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

func TestRanges_ExportTheRangeTasksAndReadsInUseAgainstEachSourcesBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := New()
	r.MustRegister(NewRanges(st, map[string]int{"src": 4, "src_backup": 4}, nil))

	// Nothing queued: each configured source has its budget and no task.
	body := scrape(t, r)
	for _, want := range []string{
		`acode_source_read_budget{source="src"} 4`,
		`acode_source_read_budget{source="src_backup"} 4`,
		`acode_source_reads{source="src"} 0`,
		`acode_range_tasks{source="src",state="queued"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("idle scrape lacks %s", want)
		}
	}

	// A job queues 5 ranges under a budget of 2; two workers claim one
	// each, one of them has finished reading (uploading its part).
	j, err := st.CreateJob(ctx, "conn", "primary", "me:1")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.StartAttemptAs(ctx, j.ID, "me:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.QueueRanges(ctx, j.ID, "diario", "src", 2, a.Number, []int{0, 1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	var claims []state.RangeTask
	for _, w := range []string{"w:1", "w:2"} {
		task, ok, err := st.ClaimRange(ctx, w, time.Minute)
		if err != nil || !ok {
			t.Fatalf("ClaimRange(%s): %v %v", w, ok, err)
		}
		claims = append(claims, task)
	}
	if err := st.EndRead(ctx, claims[1]); err != nil {
		t.Fatal(err)
	}
	body = scrape(t, r)
	for _, want := range []string{
		`acode_range_tasks{source="src",state="queued"} 3`,
		`acode_range_tasks{source="src",state="claimed"} 2`,
		`acode_range_tasks{source="src",state="expired"} 0`,
		`acode_range_tasks{source="src",state="failed"} 0`,
		`acode_source_reads{source="src"} 1`,
		`acode_source_read_budget{source="src"} 2`, // the tasks' budget, not the configured one
		`acode_source_read_budget{source="src_backup"} 4`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Count(body, `acode_source_read_budget{source="src"}`) != 1 {
		t.Errorf("source src has more than one budget series:\n%s", body)
	}
}
