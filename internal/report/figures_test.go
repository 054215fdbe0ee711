package report

import (
	"testing"
	"time"
)

func TestPeriod_WeekIsTheSevenDaysBeforeAndMonthIsTheCalendarMonth(t *testing.T) {
	from, to, err := Period(Weekly, time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC))
	if err != nil || !from.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("weekly: %v .. %v, %v", from, to, err)
	}
	from, to, err = Period(Monthly, time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC))
	if err != nil || !from.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("monthly: %v .. %v, %v", from, to, err)
	}
	if _, _, err := Period("daily", time.Now()); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

func TestPercentile_NearestRank(t *testing.T) {
	xs := []float64{9, 1, 5, 3, 7, 2, 8, 4, 6, 10}
	if p := percentile(xs, 0.5); p != 5 {
		t.Errorf("p50 %v, want 5", p)
	}
	if p := percentile(xs, 0.95); p != 10 {
		t.Errorf("p95 %v, want 10", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("p50 of nothing %v", p)
	}
}
