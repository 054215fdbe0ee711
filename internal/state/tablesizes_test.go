package state

import (
	"context"
	"testing"
	"time"
)

func TestTableSizes_RecordedOncePerWeekAndReadByPeriod(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		s := bk.open(t)
		ctx := context.Background()
		w1 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
		w2 := w1.AddDate(0, 0, 7)
		rec := func(at time.Time, rows, data int64) {
			t.Helper()
			if err := s.RecordTableSizes(ctx, []TableSize{
				{Source: "src", Schema: "db", Table: "diario", MeasuredAt: at, Rows: rows, DataLength: data, IndexLength: 16384},
				{Source: "src", Schema: "db", Table: "produtos", MeasuredAt: at, Rows: rows / 2, DataLength: data / 2},
			}); err != nil {
				t.Fatal(err)
			}
		}
		rec(w1, 1000, 65536)
		rec(w2, 1500, 98304)
		rec(w2, 1600, 114688) // the week retried: replaced, not doubled
		got, err := s.TableSizesBetween(ctx, w1, w2.Add(time.Hour))
		if err != nil || len(got) != 4 {
			t.Fatalf("got %+v, %v", got, err)
		}
		if d := got[1]; d.Table != "diario" || !d.MeasuredAt.Equal(w2) || d.Rows != 1600 || d.DataLength != 114688 || d.IndexLength != 16384 {
			t.Errorf("diario's second week: %+v", d)
		}
		if only, err := s.TableSizesBetween(ctx, w2, w2.Add(time.Hour)); err != nil || len(only) != 2 || only[0].Rows != 1600 {
			t.Errorf("second week only: %+v, %v", only, err)
		}
	})
}
