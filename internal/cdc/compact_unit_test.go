package cdc

import (
	"testing"

	"github.com/acode-dev/acode/internal/snapshot"
)

func stamp(s string) (b [19]byte) {
	copy(b[:], s)
	return b
}

func TestVersionAfter_ByGTIDInADomainByCommitTimeAcross(t *testing.T) {
	t.Parallel()
	backfill := version{dom: 0, seq: 90, txn: backfillSeq, commit: stamp("2026-12-06 10:00:00")}
	change := version{dom: 0, seq: 85, txn: 2, commit: stamp("2026-12-06 10:00:05")}
	if change.after(backfill) || !backfill.after(change) {
		t.Error("a change at a GTID before a range's snapshot is older than its backfill row, whatever their times")
	}
	later := version{dom: 0, seq: 91, txn: 1, commit: stamp("2026-12-06 09:59:59")}
	if !later.after(backfill) {
		t.Error("a change after a backfill row's snapshot is newer")
	}
	other := version{dom: 1, seq: 3, txn: 1, commit: stamp("2026-12-06 10:00:01")}
	if !other.after(backfill) || backfill.after(other) {
		t.Error("across domains the later commit wins")
	}
}

func TestLastBackfill_IsTheLastBackfillsFirstRange(t *testing.T) {
	t.Parallel()
	m := &snapshot.Manifest{Files: []snapshot.File{
		{Key: "p/file_x_cdc_20261206_backfill_0_0-1-10.parquet"}, {Key: "p/file_x_cdc_20261206_backfill_1_0-1-12.parquet"},
		{Key: "p/file_x_cdc_20261206_0-1-13_0-1-20.parquet"},
		{Key: "p/file_x_cdc_20261206_backfill_0_0-1-40.parquet"}, {Key: "p/file_x_cdc_20261206_backfill_1_0-1-41.parquet"},
		{Key: "p/file_x_cdc_20261206_0-1-42_0-1-50.parquet"},
	}}
	if got := lastBackfill(m); got != 3 {
		t.Errorf("lastBackfill = %d, want 3 (the re-backfill's range 0)", got)
	}
	m.Files = m.Files[2:3]
	if got := lastBackfill(m); got != -1 {
		t.Errorf("lastBackfill without a backfill = %d, want -1", got)
	}
}

func TestRetentionHeadroom_FilesBeforeTheCheckpointsFile(t *testing.T) {
	t.Parallel()
	pos := func(s string) Position {
		p, err := ParsePosition(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := Retention{Count: 4, Files: []BinlogFile{{"b.1", pos("0-1-10")}, {"b.2", pos("0-1-20")}, {"b.3", pos("0-1-30")}}}
	for _, c := range []struct {
		at      string
		files   int
		known   bool
		purged  bool
		comment string
	}{
		{"0-1-5", -1, true, true, "before the oldest file's start"},
		{"0-1-10", 0, true, false, "at the start of the oldest file"},
		{"0-1-15", 0, true, false, "inside the oldest file"},
		{"0-1-25", 1, true, false, "inside the second"},
		{"0-1-35", 0, false, false, "in or past the last file read"},
	} {
		files, known := r.Headroom(pos(c.at))
		if files != c.files || known != c.known || r.Purged(pos(c.at)) != c.purged {
			t.Errorf("%s (%s): headroom %d, %v, purged %v", c.at, c.comment, files, known, r.Purged(pos(c.at)))
		}
	}
}
