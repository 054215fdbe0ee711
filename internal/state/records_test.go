package state

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestStreamResults_UpsertByJobAndStream(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j := mustJob(t, s, "conn")
		start := time.Date(2025, 8, 7, 10, 0, 0, 0, time.UTC)
		r := StreamResult{JobID: j.ID, Stream: "produto", Partition: "2025-08-07", Status: "running", StartedAt: start}
		if err := s.SaveStreamResult(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Status, r.Rows, r.Bytes = "committed", 1000, 4096
		r.Files = []string{"p/file_1.parquet", "p/file_2.parquet"}
		r.ManifestKey, r.EndedAt = "p/_manifest.json", start.Add(time.Minute)
		if err := s.SaveStreamResult(ctx, r); err != nil {
			t.Fatal(err)
		}
		other := StreamResult{JobID: j.ID, Stream: "estoque", Status: "failed", Error: "table not found", StartedAt: start}
		if err := s.SaveStreamResult(ctx, other); err != nil {
			t.Fatal(err)
		}
		got, err := s.StreamResults(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		other.Files = []string{}         // an absent list reads back empty, so JSON output shows [] not null
		want := []StreamResult{other, r} // ordered by stream name
		if !reflect.DeepEqual(got, want) {
			t.Errorf("StreamResults =\n%+v\nwant\n%+v", got, want)
		}
		if err := s.SaveStreamResult(ctx, StreamResult{JobID: 9999, Stream: "x", Status: "running"}); err == nil {
			t.Error("SaveStreamResult accepted a result for a job that does not exist")
		}
	})
}

func TestParts_RecordIsIdempotentAndForgetAndDeleteRemove(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j := mustJob(t, s, "conn")
		at := time.Date(2025, 8, 7, 10, 0, 0, 0, time.UTC)
		p1 := Part{JobID: j.ID, Stream: "produto", Partition: "2025-08-07", Key: "k/001.parquet",
			Ranges: []int{0, 1, 2}, Rows: 300, Bytes: 9000, SHA256: "ab12", CreatedAt: at}
		p2 := Part{JobID: j.ID, Stream: "produto", Partition: "2025-08-07", Key: "k/002.parquet",
			Ranges: []int{3}, Rows: 50, Bytes: 1500, SHA256: "cd34", CreatedAt: at.Add(time.Second),
			Pending: `{"key":"k/002.parquet","id":"u-1","token":"t"}`}
		for _, p := range []Part{p1, p2, p1} { // p1 twice: a retried RecordPart
			if err := s.RecordPart(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		other := Part{JobID: j.ID, Stream: "estoque", Key: "e/001.parquet", Ranges: []int{0}}
		if err := s.RecordPart(ctx, other); err != nil {
			t.Fatal(err)
		}
		got, err := s.Parts(ctx, j.ID, "produto")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []Part{p1, p2}) {
			t.Errorf("Parts =\n%+v\nwant\n%+v", got, []Part{p1, p2})
		}
		if err := s.ForgetPart(ctx, j.ID, "produto", p2.Key); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Parts(ctx, j.ID, "produto"); !reflect.DeepEqual(got, []Part{p1}) {
			t.Errorf("Parts after ForgetPart(%s) = %+v, want only p1", p2.Key, got)
		}
		if err := s.DeleteParts(ctx, j.ID, "produto"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Parts(ctx, j.ID, "produto"); len(got) != 0 {
			t.Errorf("Parts after DeleteParts = %+v, want none", got)
		}
		left, err := s.Parts(ctx, j.ID, "estoque")
		if err != nil || len(left) != 1 || left[0].CreatedAt.IsZero() {
			t.Errorf("other stream's parts = %+v, %v; want one with a creation time", left, err)
		}
	})
}

func TestPlan_RetryReadsTheSamePlan(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		j := mustJob(t, s, "conn")
		if _, ok, err := s.Plan(ctx, j.ID, "produto"); ok || err != nil {
			t.Fatalf("Plan before SavePlan: ok=%v err=%v, want none", ok, err)
		}
		plan := []byte(`{"ranges":[{"lo":1,"hi":1000},{"lo":1001,"hi":2000}]}`)
		if err := s.SavePlan(ctx, j.ID, "produto", plan); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Plan(ctx, j.ID, "produto")
		if err != nil || !ok {
			t.Fatalf("Plan: ok=%v err=%v", ok, err)
		}
		if !json.Valid(got) || string(got) != string(plan) {
			t.Errorf("Plan = %s, want %s", got, plan)
		}
		if err := s.SavePlan(ctx, j.ID, "produto", []byte("{not json")); err == nil {
			t.Error("SavePlan accepted invalid JSON")
		}
	})
}

func TestCursor_RoundTripAndReplace(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		if _, ok, err := s.GetCursor(ctx, "conn", "vendas"); ok || err != nil {
			t.Fatalf("GetCursor before any sync: ok=%v err=%v", ok, err)
		}
		c := Cursor{Connection: "conn", Stream: "vendas", Field: []string{"updated_at"},
			Value: "2025-08-07 23:59:59.999999", RecordCount: 3, JobID: 7,
			UpdatedAt: time.Date(2025, 8, 8, 0, 5, 0, 0, time.UTC)}
		if err := s.SetCursor(ctx, c); err != nil {
			t.Fatal(err)
		}
		c.Value, c.RecordCount, c.JobID = "2025-08-08 23:00:00", 1, 8
		c.UpdatedAt = c.UpdatedAt.Add(24 * time.Hour)
		if err := s.SetCursor(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.GetCursor(ctx, "conn", "vendas")
		if err != nil || !ok {
			t.Fatalf("GetCursor: ok=%v err=%v", ok, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("GetCursor = %+v, want %+v", got, c)
		}
		if _, ok, _ := s.GetCursor(ctx, "other_conn", "vendas"); ok {
			t.Error("cursor leaked to another connection")
		}
	})
}

func TestCommits_OneLiveSnapshotPerPartition(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		day := time.Date(2025, 8, 7, 0, 0, 0, 0, time.UTC)
		mk := func(stream, part string, job int64, at time.Time) Commit {
			return Commit{Connection: "conn", Stream: stream, Partition: part, JobID: job, ManifestKey: "m/" + part,
				Rows: job * 10, Bytes: job * 100, Files: 1, Source: "primary", Status: CommitCommitted, CommittedAt: at}
		}
		old := mk("produto", "2025-08-06", 1, day.Add(-20*time.Hour))
		first := mk("produto", "2025-08-07", 2, day.Add(time.Hour))
		rerun := mk("produto", "2025-08-07", 3, day.Add(2*time.Hour)) // same day synced again
		rerun.Source, rerun.Status = "backup", CommitPromoted
		estoque := mk("estoque", "2025-08-07", 3, day.Add(2*time.Hour))
		for _, c := range []Commit{old, first, rerun, estoque} {
			if err := s.RecordCommit(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Commit(ctx, "conn", "produto", "2025-08-07")
		if err != nil || !reflect.DeepEqual(got, rerun) {
			t.Errorf("Commit = %+v, %v; want the rerun %+v", got, err, rerun)
		}
		since, err := s.Commits(ctx, "conn", "", day)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(since, []Commit{estoque, rerun}) {
			t.Errorf("Commits(all streams, since day) = %+v", since)
		}
		all, err := s.Commits(ctx, "conn", "produto", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(all, []Commit{old, rerun}) {
			t.Errorf("Commits(produto) = %+v, want old day then the rerun", all)
		}
		if _, err := s.Commit(ctx, "conn", "produto", "2024-01-01"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Commit(missing): err = %v, want ErrNotFound", err)
		}
		bad := mk("produto", "2025-08-08", 4, day)
		bad.Status = "lost"
		if err := s.RecordCommit(ctx, bad); err == nil {
			t.Error("RecordCommit accepted an unknown status")
		}
	})
}
