package reconcile

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
)

// A merged part keeps its inputs' GeoParquet metadata, so a reconciled
// partition's spatial columns still read as geometry.
func TestPartWriter_KeepsGeoParquetMetadata(t *testing.T) {
	t.Parallel()
	s, err := parquet.NewSchema(schema.Table{Name: "t", Columns: []schema.Column{
		{Name: "id", DataType: "int", ColumnType: "int(11)"},
		{Name: "pos", DataType: "point", ColumnType: "point", Nullable: true},
	}}, parquet.ModeExact)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, s, time.Unix(0, 0), parquet.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	point := "\xe6\x10\x00\x00\x01\x01\x00\x00\x00" + strings.Repeat("\x00", 16)
	if err := w.Write([][]byte{[]byte("1"), []byte(point)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	like, err := pq.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want, ok := like.Lookup("geo")
	if !ok {
		t.Fatal("input has no geo metadata")
	}
	rows := make([]pq.Row, 1)
	r := pq.NewReader(like)
	if n, _ := r.ReadRows(rows); n != 1 {
		t.Fatalf("read %d rows", n)
	}
	r.Close()
	pw := newPartWriter(t.TempDir(), like)
	if err := pw.write(rows[0]); err != nil {
		t.Fatal(err)
	}
	parts, err := pw.close()
	if err != nil || len(parts) != 1 {
		t.Fatalf("close: %v, %d parts", err, len(parts))
	}
	data, err := os.ReadFile(parts[0].path)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := merged.Lookup("geo"); got != want {
		t.Errorf("merged part geo metadata %q, want %q", got, want)
	}
}
