package syncer

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/storage/s3"
	"github.com/acode-dev/acode/internal/testenv"
)

// A part streamed to S3 while it is written lands whole once closed, with
// the size and checksum the part computed; a part discarded mid-way (the
// read failed) leaves neither an object nor an open multipart upload.
func TestPart_StreamsToS3WhileWritten(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	store, err := s3.New(t.Context(), s3.Config{Bucket: bucket, Region: srv.Region, Endpoint: srv.Endpoint,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, PartSizeBytes: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	table := schema.Table{Namespace: "n", Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", DataType: "bigint", ColumnType: "bigint(20)"},
		{Name: "s", DataType: "varchar", ColumnType: "varchar(64)", Nullable: true, MaxLength: 64},
	}}
	ps, err := parquet.NewSchema(table, parquet.ModeExact)
	if err != nil {
		t.Fatal(err)
	}
	opts := parquet.DefaultOptions()
	opts.RowGroupBytes = 1 << 20 // many row groups: the file grows while the Put reads it
	write := func(p *part, rows int) {
		t.Helper()
		for i := range rows {
			id := strconv.Itoa(i)
			if err := p.w.Write([][]byte{[]byte(id), []byte(id + strings.Repeat("x", i%50))}); err != nil {
				t.Fatal(err)
			}
		}
	}

	ok, err := newPart(t.TempDir(), "staging/ok.parquet", ps, time.Now(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := ok.stream(t.Context(), store); err != nil {
		t.Fatal(err)
	}
	write(ok, 400_000)
	if err := ok.close(); err != nil {
		t.Fatal(err)
	}
	spooled, err := io.ReadAll(io.NewSectionReader(ok.file, 0, ok.count))
	if err != nil {
		t.Fatal(err)
	}
	rows, size, _, err := ok.upload(t.Context(), store)
	if err != nil || rows != 400_000 || size != int64(len(spooled)) || size < 6<<20 {
		t.Fatalf("upload: %d rows, %d bytes, %v; want 400000 rows of a multipart-sized file", rows, size, err)
	}
	r, err := store.Open(t.Context(), "staging/ok.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, spooled) {
		t.Errorf("stored object (%d bytes) differs from the part file (%d bytes)", len(got), len(spooled))
	}

	gone, err := newPart(t.TempDir(), "staging/gone.parquet", ps, time.Now(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.stream(t.Context(), store); err != nil {
		t.Fatal(err)
	}
	write(gone, 400_000)
	gone.discard()
	if _, err := store.Stat(t.Context(), "staging/gone.parquet"); err == nil {
		t.Error("a discarded part was stored")
	}
	ups, err := srv.Client(t).ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left open by the discarded part", len(ups.Uploads))
	}
}
