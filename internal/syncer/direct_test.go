package syncer

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/testenv"
)

const (
	bronze = "origin=airbyte/database=bronze_acode"
	s3Conn = "connection_mysql_s3_acode"
)

// bucketView is what a reader of the bucket sees, and what is still
// uploading, under a prefix.
type bucketView struct {
	client *s3.Client
	bucket string
}

func (b bucketView) parquet(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Error(err)
			return nil
		}
		for _, o := range page.Contents {
			if strings.HasSuffix(aws.ToString(o.Key), ".parquet") {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
	}
	return keys
}

func (b bucketView) uploads(t *testing.T, prefix string) int {
	t.Helper()
	out, err := b.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(b.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Error(err)
		return 0
	}
	return len(out.Uploads)
}

// TestSync_S3PartsStayInvisibleUntilTheCommit watches the bucket while a
// throttled sync runs: parts go straight to the partition as open
// uploads, no reader of the partition sees a file while the stream is
// read, nothing passes through the staging area, and after the commit
// every row is there once and no upload is left open.
func TestSync_S3PartsStayInvisibleUntilTheCommit(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 30000)
	srv := testenv.StartS3(t)
	f := newFixture(t, m, database, srv)
	f.Settings(t, "chunk_rows: 1000", "file_size_mb: 1", "max_rows_per_second: 15000", "max_parallel_reads: 2", "parallel_streams: 1")
	view := bucketView{srv.Client(t), f.Bucket}
	staging := layout.StagingRoot(bronze, s3Conn) + "/"
	partitionOf := bronze + "/" + diario + "/"

	progress := NewProgress()
	var pending, visible, staged atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			for _, s := range progress.Streams() {
				if s.Name != diario || s.State() != "reading" {
					continue
				}
				files := len(view.parquet(t, partitionOf))
				open := view.uploads(t, partitionOf)
				inStaging := len(view.parquet(t, staging))
				if s.State() != "reading" {
					continue // the commit began while we looked
				}
				pending.Add(int64(open))
				visible.Add(int64(files))
				staged.Add(int64(inStaging))
			}
		}
	}()
	res, err := f.run(t, s3Conn, Options{Progress: progress})
	close(stop)
	<-watched
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if pending.Load() == 0 {
		t.Errorf("no open upload was seen in the partition while it was read: parts did not go straight to their keys")
	}
	if visible.Load() != 0 || staged.Load() != 0 {
		t.Errorf("while the stream was read, readers saw %d part files in the partition and %d in staging; want none", visible.Load(), staged.Load())
	}
	if n := view.uploads(t, ""); n != 0 {
		t.Errorf("%d uploads left open after the commit", n)
	}
	s := res.Streams[0]
	want := count(t, m.Root(t), database, diario)
	got := view.parquet(t, s.Partition+"/")
	if s.Status != "committed" || s.Rows != want || len(got) != len(s.Files) || len(got) < 2 {
		t.Fatalf("%s with %d rows in %d files (bucket holds %d), want committed with %d rows in several files", s.Status, s.Rows, len(s.Files), len(got), want)
	}
	for i, key := range s.Files {
		if n, ok := layout.ForStream(bronze, "", layout.Vars{}).PartNumber(res.JobID, key); ok && n != i+1 {
			t.Errorf("file %d is %s: want the parts numbered 1..n in the manifest's order", i, key)
		}
	}
	duck := testenv.DuckDB(t)
	rows := duck.Query(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS k FROM read_parquet("+
		testenv.SQLString(filepath.Join(srv.Dir, f.Bucket, s.Partition, "*.parquet"))+")")
	if rows[0]["n"] != fmt.Sprint(want) || rows[0]["k"] != fmt.Sprint(want) {
		t.Errorf("DuckDB reads %v rows / %v keys, want %d once each", rows[0]["n"], rows[0]["k"], want)
	}
}

// TestSync_S3RetryCompletesTheFirstAttemptsUploadsAndRereadsALostOne kills
// the source mid-job; before the retry, one of the first attempt's open
// uploads is aborted, as a bucket's lifecycle rule would. The second
// attempt reads only the missing ranges, finds the lost upload at its
// commit and fails; the third reads the lost part's ranges again and
// commits every row once.
func TestSync_S3RetryCompletesTheFirstAttemptsUploadsAndRereadsALostOne(t *testing.T) {
	t.Parallel()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	database := m.NewDatabase(t)
	demotest.Fill(t, m, database, demo.Options{Rows: 40000, Seed: 3, Days: 2, Now: time.Now()})
	want := count(t, m.Root(t), database, diario)
	srv := testenv.StartS3(t)
	f := newFixture(t, m, database, srv)
	f.Settings(t, "chunk_rows: 1000", "file_size_mb: 1", "max_rows_per_second: 20000", "max_parallel_reads: 1", "parallel_streams: 1")
	view := bucketView{srv.Client(t), f.Bucket}
	progress := NewProgress()
	killed := killAfter(t, m, progress, 25000)
	retries := 0
	between := func(context.Context, time.Duration) error {
		retries++
		if retries == 1 {
			<-killed
			m.Restart(t)
			abortOne(t, view, bronze+"/"+diario+"/")
		}
		return nil
	}
	res, err := f.run(t, s3Conn, Options{MaxAttempts: 3, Sleep: between, Progress: progress})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if res.Attempts != 3 {
		t.Errorf("attempts = %d, want 3 (killed source, then the lost upload)", res.Attempts)
	}
	s := res.Streams[0]
	if s.RangesResumed == 0 {
		t.Errorf("the last attempt re-read every range; want it to keep the first attempt's uploads")
	}
	if n := view.uploads(t, ""); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
	duck := testenv.DuckDB(t)
	got := duck.Query(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT idpk)::VARCHAR AS k FROM read_parquet("+
		testenv.SQLString(filepath.Join(srv.Dir, f.Bucket, s.Partition, "*.parquet"))+")")
	if got[0]["n"] != fmt.Sprint(want) || got[0]["k"] != fmt.Sprint(want) {
		t.Errorf("after the retries: %v rows / %v keys, want %d exactly once each", got[0]["n"], got[0]["k"], want)
	}
}

// abortOne aborts the first open upload under prefix.
func abortOne(t *testing.T, view bucketView, prefix string) {
	t.Helper()
	out, err := view.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(view.bucket), Prefix: aws.String(prefix)})
	if err != nil || len(out.Uploads) == 0 {
		t.Fatalf("no open upload under %s to lose (%v): the first attempt left none", prefix, err)
	}
	u := out.Uploads[0]
	if _, err := view.client.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{
		Bucket: aws.String(view.bucket), Key: u.Key, UploadId: u.UploadId,
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSync_S3QuarantineKeepsTheBytesAndPublishesNothing plants a defect
// that fails an error rule: the stream's parts, uploaded straight to the
// partition, are never completed there; their bytes land under
// _quarantine instead, and no upload is left open.
func TestSync_S3QuarantineKeepsTheBytesAndPublishesNothing(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 6000)
	m.Exec(t, "UPDATE `"+database+"`."+diario+" SET CNPJ = NULL WHERE idpk % 10 = 0") // 10% nulls > 5% tolerance
	srv := testenv.StartS3(t)
	f := newFixture(t, m, database, srv)
	f.Settings(t, "chunk_rows: 1000", "file_size_mb: 1")
	view := bucketView{srv.Client(t), f.Bucket}
	res, err := f.run(t, s3Conn, Options{})
	if err == nil {
		t.Fatal("sync with 10% null CNPJ succeeded; want the quality gate to fail it")
	}
	var s StreamResult
	for _, r := range res.Streams {
		if r.Name == diario {
			s = r
		}
	}
	if s.Status != snapshot.StatusQuarantined {
		t.Fatalf("%s: %s, want quarantined", diario, s.Status)
	}
	if got := view.parquet(t, s.Partition+"/"); len(got) != 0 {
		t.Errorf("the quarantined stream published %v", got)
	}
	prefix := snapshot.QuarantinePrefix(bronze, diario, res.StartedAt.UTC().Format("2006-01-02"), res.JobID)
	if got := view.parquet(t, prefix+"/"); len(got) == 0 {
		t.Errorf("nothing under %s: the quarantined bytes were not kept", prefix)
	}
	if n := view.uploads(t, ""); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
	duck := testenv.DuckDB(t)
	got := duck.Query(t, "SELECT count(*)::VARCHAR AS n FROM read_parquet("+
		testenv.SQLString(filepath.Join(srv.Dir, f.Bucket, prefix, "*.parquet"))+")")
	if want := count(t, m.Root(t), database, diario); got[0]["n"] != fmt.Sprint(want) {
		t.Errorf("quarantine holds %v rows, want all %d", got[0]["n"], want)
	}
}

// TestSync_S3CancelledJobLeavesNoOpenUpload cancels a throttled sync after
// some parts of its big stream are uploaded: the job's open uploads are
// aborted (nothing would ever complete them, and S3 bills them until then)
// and nothing appears in that stream's partition.
func TestSync_S3CancelledJobLeavesNoOpenUpload(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 20000)
	srv := testenv.StartS3(t)
	f := newFixture(t, m, database, srv)
	f.Settings(t, "chunk_rows: 500", "file_size_mb: 1", "max_rows_per_second: 10000", "max_parallel_reads: 1", "parallel_streams: 1")
	view := bucketView{srv.Client(t), f.Bucket}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progress := NewProgress()
	sawOpen := make(chan struct{})
	go func() {
		for ctx.Err() == nil {
			if view.uploads(t, bronze+"/"+diario+"/") > 0 {
				for _, s := range progress.Streams() {
					if s.Name == diario && s.Bytes() > 0 { // a part was uploaded and left open
						close(sawOpen)
						cancel()
						return
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	res, err := runWith(ctx, t, f.project(t), s3Conn, Options{Progress: progress})
	select {
	case <-sawOpen:
	default:
		t.Fatalf("the sync ended (%v, %v) before an uploaded part was seen open", res.Status, err)
	}
	if err == nil || res.Status != "cancelled" {
		t.Fatalf("want a cancelled job, got %v (%v)", res.Status, err)
	}
	if n := view.uploads(t, ""); n != 0 {
		t.Errorf("%d uploads left open by the cancelled job", n)
	}
	if got := view.parquet(t, bronze+"/"+diario+"/"); len(got) != 0 {
		t.Errorf("the cancelled stream left files: %v", got)
	}
}
