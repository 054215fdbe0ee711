package s3_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/testenv"
)

// Two buckets on one server with one set of credentials: the copy is a
// server-side CopyObject across buckets; a missing source is ErrNotExist.
func TestS3Store_CopyFromAnotherBucketIsServerSide(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	from := newStore(t, config(srv, srv.NewBucket(t)))
	toBucket := srv.NewBucket(t)
	to := newStore(t, config(srv, toBucket))
	want := []byte("a part of the bronze layer")
	if err := from.Put(t.Context(), "bronze/k=v/part 1.parquet", bytes.NewReader(want), int64(len(want))); err != nil {
		t.Fatal(err)
	}
	done, err := to.CopyFrom(t.Context(), from, "bronze/k=v/part 1.parquet", "hist/part 1.parquet")
	if !done || err != nil {
		t.Fatalf("CopyFrom: %v, %v; want a server-side copy", done, err)
	}
	if got, err := os.ReadFile(srv.ObjectPath(toBucket, "hist/part 1.parquet")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("copied object %q, %v", got, err)
	}
	err = storage.CopyBetween(t.Context(), from, "bronze/missing", to, "hist/missing")
	if !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("copy of a missing object: %v, want ErrNotExist", err)
	}
	other := config(srv, toBucket)
	other.AccessKeyID, other.SecretAccessKey = "someone", "else"
	if done, _ := newStore(t, other).CopyFrom(t.Context(), from, "bronze/k=v/part 1.parquet", "x"); done {
		t.Error("CopyFrom with other credentials copied server-side")
	}
}
