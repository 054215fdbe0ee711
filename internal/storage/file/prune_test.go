package file

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
)

// A Delete that prunes emptied directories must not break a concurrent Put
// creating a sibling under the same parents (the syncer publishes one stream
// while another stages parts under the same job prefix).
func TestStore_PutRacingPruneOfSharedParents(t *testing.T) {
	st, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 300 {
		gone := fmt.Sprintf("job/%d/a/part", i)
		if err := st.Put(ctx, gone, bytes.NewReader([]byte("x")), 1); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); errs[0] = st.Delete(ctx, gone) }()
		go func() {
			defer wg.Done()
			errs[1] = st.Put(ctx, fmt.Sprintf("job/%d/b/deep/part", i), bytes.NewReader([]byte("y")), 1)
		}()
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("iteration %d: %v", i, err)
			}
		}
	}
}
