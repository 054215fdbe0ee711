package report

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

func TestTableGrowth_FromTheWeeklyMeasurementsBeforeAndInThePeriod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := func(d int) time.Time { return time.Date(2026, 11, 2+d, 8, 0, 0, 0, time.UTC) }
	if err := st.RecordTableSizes(ctx, []state.TableSize{
		{Source: "src", Schema: "db", Table: "diario", MeasuredAt: w(0), Rows: 1000, DataLength: 65536},
		{Source: "src", Schema: "db", Table: "diario", MeasuredAt: w(7), Rows: 1500, DataLength: 98304},
		{Source: "src", Schema: "db", Table: "diario", MeasuredAt: w(14), Rows: 2100, DataLength: 131072, IndexLength: 32768},
		{Source: "src", Schema: "db", Table: "diario", MeasuredAt: w(21), Rows: 9999, DataLength: 9999}, // after the period
		{Source: "src", Schema: "db", Table: "old", MeasuredAt: w(0), Rows: 5},                          // not measured in it
	}); err != nil {
		t.Fatal(err)
	}
	from, to := w(7).Add(-time.Hour), w(14).Add(time.Hour)
	got, err := tableGrowth(ctx, st, from, to)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	g := got[0]
	if g.RowsBefore != 1000 || g.RowsAtEnd != 2100 || g.DataBytesBefore != 65536 || g.DataBytesAtEnd != 131072 ||
		g.IndexBytesAtEnd != 32768 || !g.MeasuredAt.Equal(w(14)) {
		t.Errorf("growth %+v", g)
	}
	md := Markdown(&Report{Kind: Weekly, From: from, To: to, Tables: got})
	if !strings.Contains(md, "| src | db.diario | 1000 | 2100 | 65536 | 131072 | 32768 |") {
		t.Errorf("markdown:\n%s", md)
	}
}
