package snapshot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/storage/file"
)

// Publish copies more parts than it runs at once, in any order, and lists
// them in the manifest in staging order; a part missing from staging fails
// the publish by name and leaves no manifest, so nothing is committed.
func TestPublish_CopiesPartsConcurrentlyAndCommitsOnlyWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := file.New(filepath.Join(t.TempDir(), "root"))
	if err != nil {
		t.Fatal(err)
	}
	l := layout.Stream{Partition: "bronze/t/cog_dt_ingestion=2026-11-28", FilePrefix: "file_t", Day: "20261128"}
	var staged []StagedPart
	for i := range 2*publishCopies + 1 {
		key := fmt.Sprintf("_acode_staging/job-1/t/part-%02d.parquet", i)
		body := fmt.Sprintf("part %d", i)
		if err := store.Put(ctx, key, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
		staged = append(staged, StagedPart{StagingKey: key, Name: l.PartName(1, i+1), Rows: int64(i), Bytes: int64(len(body))})
	}

	broken := append([]StagedPart{}, staged...)
	broken[5].StagingKey = "_acode_staging/job-1/t/lost.parquet"
	_, err = Publish(ctx, store, l, Manifest{JobID: 1}, broken, false)
	if !errors.Is(err, storage.ErrNotExist) || !strings.Contains(err.Error(), broken[5].Name) {
		t.Fatalf("publish with a lost part = %v; want ErrNotExist naming %s", err, broken[5].Name)
	}
	if _, err := store.Stat(ctx, l.ManifestKey()); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("a failed publish wrote the manifest: %v", err)
	}

	m, err := Publish(ctx, store, l, Manifest{JobID: 1}, staged, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != len(staged) {
		t.Fatalf("manifest lists %d files, want %d", len(m.Files), len(staged))
	}
	for i, f := range m.Files {
		if f.Key != layout.Join(l.Partition, staged[i].Name) || f.Rows != int64(i) {
			t.Errorf("file %d = %+v, want %s in staging order", i, f, staged[i].Name)
		}
		if _, err := store.Stat(ctx, f.Key); err != nil {
			t.Errorf("file %d not in the partition: %v", i, err)
		}
	}
}
