package testenv

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartS3_ObjectsLandAsPlainFiles(t *testing.T) {
	t.Parallel()
	srv := StartS3(t)
	bucket := srv.NewBucket(t)
	_, err := srv.Client(t).PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("a/b.txt"), Body: strings.NewReader("hello"),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	got, err := os.ReadFile(srv.ObjectPath(bucket, "a/b.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("object file = %q, %v; want hello", got, err)
	}
}
