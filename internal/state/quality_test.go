package state

import (
	"context"
	"errors"
	"testing"
)

func TestQualityReport_SavedReplacedAndRead(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		s := bk.open(t)
		ctx := context.Background()
		j := mustJob(t, s, "conn")
		if _, err := s.QualityReport(ctx, j.ID, "diario"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing report: %v, want ErrNotFound", err)
		}
		r := QualityReport{JobID: j.ID, Connection: "conn", Stream: "diario", Partition: "p", Status: "committed",
			Score: 0.9, Warnings: 1, Report: []byte(`{"score":0.9}`), Stats: []byte(`{"rows":3}`)}
		if err := s.SaveQualityReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Status, r.Errors = "quarantined", 2
		if err := s.SaveQualityReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.QualityReport(ctx, j.ID, "diario")
		if err != nil || got.Status != "quarantined" || got.Errors != 2 || string(got.Stats) != `{"rows":3}` || got.CreatedAt.IsZero() {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}
