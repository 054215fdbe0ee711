package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/scratch"
)

func TestScratch_ExportsBytesPerConnection(t *testing.T) {
	t.Parallel()
	d := scratch.Dir{Root: t.TempDir()}
	job, err := d.Create("conn_a", 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(job, "part"), make([]byte, 1234), 0o600); err != nil {
		t.Fatal(err)
	}
	r := New()
	r.MustRegister(NewScratch(d, nil))
	if body := scrape(t, r); !strings.Contains(body, `acode_scratch_bytes{connection="conn_a"} 1234`) {
		t.Errorf("scrape lacks the scratch bytes:\n%s", body)
	}
}
