package scratch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, n), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestClean_RemovesDeadJobsOnlyAndSparesKeep(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	for _, id := range []int64{1, 2, 3, 4} {
		dir, err := d.Create("conn_a", id)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, "spool-s-1", "part"), 100*int(id))
	}
	write(t, filepath.Join(d.Job("conn_b", 9), "kept-s-1", "part"), 7)
	write(t, filepath.Join(d.Root, "conn_a", "not-a-job", "x"), 1) // not ours to judge

	usage, err := d.Usage()
	if err != nil || usage["conn_a"] != 1000 || usage["conn_b"] != 7 {
		t.Fatalf("usage %v, %v", usage, err)
	}
	live := map[int64]bool{2: true}
	ended := func(_ context.Context, id int64) (bool, error) { return !live[id], nil }
	removed, err := d.Clean(context.Background(), "conn_a", 4, ended)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || removed[0].JobID != 1 || removed[1].JobID != 3 || removed[1].Bytes != 300 {
		t.Errorf("removed %+v, want jobs 1 and 3", removed)
	}
	left, _ := d.Jobs("")
	var ids []int64
	for _, j := range left {
		ids = append(ids, j.JobID)
	}
	if len(ids) != 3 || ids[0] != 2 || ids[1] != 4 || ids[2] != 9 {
		t.Errorf("left jobs %v, want 2 (live), 4 (kept) and 9 (other connection)", ids)
	}
	if _, err := os.Stat(filepath.Join(d.Root, "conn_a", "not-a-job", "x")); err != nil {
		t.Error("a dir that is not a job's was removed")
	}
}

func TestJobs_MissingRootIsEmpty(t *testing.T) {
	d := Dir{Root: filepath.Join(t.TempDir(), "never")}
	if jobs, err := d.Jobs(""); err != nil || len(jobs) != 0 {
		t.Errorf("jobs %v, err %v", jobs, err)
	}
}
