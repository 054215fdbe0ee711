package stats

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// The owner of a scale-out job merges the summaries of ranges read by
// other processes: two ranges' summaries, serialised as a part record
// holds them and merged, must give the statistics of reading every row in
// one process (except the per-value sets, which summaries do not carry).
func TestSummary_MergeOfTwoRangesIsTheStatisticsOfAllRows(t *testing.T) {
	t.Parallel()
	spec := Spec{
		Summarize: []string{"ACODE_Val_Total", "Big", "Peso", "Data"},
		Above:     map[string][]string{"ACODE_Val_Total": {"100000"}, "Peso": {"1.5"}},
		Below:     map[string][]string{"ACODE_Val_Total": {"0"}},
		Future:    []string{"Data"}, FutureAfter: "2025-08-07",
		DailyTotals: []DailyTotalSpec{{Value: "ACODE_Val_Total", Date: "Data"}},
	}
	var rows [][][]byte
	for i := range 200 {
		day := fmt.Sprintf("2025-08-%02d", 1+i%20)
		rows = append(rows, row(fmt.Sprint(i), fmt.Sprintf("%d.%02d", 99990+i*7, i%100), "11111111000111", day, "789",
			fmt.Sprintf("%d.25", i%4-1), "18446744073709551615"))
	}
	rows = append(rows, row("900", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"))

	whole, err := NewGatherer(diarioTable(), spec)
	if err != nil {
		t.Fatal(err)
	}
	w := whole.NewWorker()
	for _, r := range rows {
		w.Observe(r)
	}
	whole.Add(w)

	merged, _ := NewGatherer(diarioTable(), spec)
	for _, half := range [][][][]byte{rows[:120], rows[120:]} {
		reader, _ := NewGatherer(diarioTable(), spec) // another process
		rw := reader.NewWorker()
		for _, r := range half {
			rw.Observe(r)
		}
		text, err := json.Marshal(rw.Summary())
		if err != nil {
			t.Fatal(err)
		}
		var s Summary
		if err := json.Unmarshal(text, &s); err != nil {
			t.Fatal(err)
		}
		if err := merged.AddSummary(&s); err != nil {
			t.Fatal(err)
		}
	}
	want, got := whole.Result(), merged.Result()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("merged summaries differ from one read of all rows:\n got %+v\nwant %+v", got, want)
	}
	c, _ := got.Column("ACODE_Val_Total")
	if got.Rows != 201 || c.Nulls != 1 || c.Above["100000"] == 0 || got.DailyTotals[0].Totals["2025-08-20"] == "" {
		t.Fatalf("merged statistics miss rows: rows %d, nulls %d, above %v", got.Rows, c.Nulls, c.Above)
	}
}

func TestSummary_OfAnotherSpecIsRefused(t *testing.T) {
	t.Parallel()
	a, _ := NewGatherer(diarioTable(), Spec{Above: map[string][]string{"ACODE_Val_Total": {"100000"}}})
	b, _ := NewGatherer(diarioTable(), Spec{Above: map[string][]string{"ACODE_Val_Total": {"5"}}})
	w := a.NewWorker()
	w.Observe(row("1", "7.00", "x", "2025-08-01", "1", "1", "1"))
	if err := b.AddSummary(w.Summary()); !errors.Is(err, ErrSummaryMismatch) {
		t.Fatalf("summary of another threshold merged: %v", err)
	}
	if b.Result().Rows != 0 {
		t.Fatal("a refused summary's rows were counted")
	}
}
