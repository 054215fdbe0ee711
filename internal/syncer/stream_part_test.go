package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/storage"
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

	for _, deferred := range []bool{false, true} {
		t.Run(fmt.Sprintf("deferred=%v", deferred), func(t *testing.T) {
			var d storage.Deferrer
			if deferred {
				d = store
			}
			streamOnePart(t, srv, store, d, bucket, ps, opts, write)
		})
	}
}

// streamOnePart streams one part whole and discards another; a deferred
// part is invisible until completed, and its file is kept when asked.
func streamOnePart(t *testing.T, srv *testenv.S3Server, store *s3.Store, d storage.Deferrer, bucket string, ps *parquet.Schema, opts parquet.Options, write func(*part, int)) {
	key := fmt.Sprintf("p/ok-%v.parquet", d != nil)
	ok, err := newPart(t.TempDir(), key, ps, time.Now(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ok.keep = filepath.Join(t.TempDir(), "kept.parquet")
	if err := ok.stream(t.Context(), store, d); err != nil {
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
	out, err := ok.upload(t.Context(), store)
	if err != nil || out.rows != 400_000 || out.size != int64(len(spooled)) || out.size < 6<<20 {
		t.Fatalf("upload: %+v, %v; want 400000 rows of a multipart-sized file", out, err)
	}
	if kept, err := os.ReadFile(ok.keep); err != nil || !bytes.Equal(kept, spooled) {
		t.Errorf("kept file (%d bytes, %v) differs from the part file (%d bytes)", len(kept), err, len(spooled))
	}
	if d != nil {
		if _, err := store.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("a deferred part is visible before its completion: %v", err)
		}
		var pend storage.Pending
		if err := json.Unmarshal([]byte(out.pending), &pend); err != nil || pend.Key != key {
			t.Fatalf("pending %q: %v", out.pending, err)
		}
		if err := d.CompleteDeferred(t.Context(), pend); err != nil {
			t.Fatal(err)
		}
	} else if out.pending != "" {
		t.Errorf("a plain Put returned pending %q", out.pending)
	}
	r, err := store.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, spooled) {
		t.Errorf("stored object (%d bytes) differs from the part file (%d bytes)", len(got), len(spooled))
	}

	goneKey := fmt.Sprintf("p/gone-%v.parquet", d != nil)
	gone, err := newPart(t.TempDir(), goneKey, ps, time.Now(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.stream(t.Context(), store, d); err != nil {
		t.Fatal(err)
	}
	write(gone, 400_000)
	gone.discard()
	if _, err := store.Stat(t.Context(), goneKey); err == nil {
		t.Error("a discarded part was stored")
	}
	ups, err := srv.Client(t).ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &goneKey})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left open by the discarded part", len(ups.Uploads))
	}
}
