package s3

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acode-dev/acode/internal/storage"
)

var _ storage.Janitor = (*Store)(nil)

// CleanIncomplete aborts multipart uploads under prefix initiated more than
// olderThan ago: uploads whose process died before it could complete or
// abort them. Their parts are invisible to readers but stored and billed.
// (A bucket lifecycle rule AbortIncompleteMultipartUpload does the same.)
func (s *Store) CleanIncomplete(ctx context.Context, prefix string, olderThan time.Duration) (int, error) {
	if err := storage.ValidatePrefix(prefix); err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-olderThan)
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.cfg.Bucket),
		Prefix: aws.String(prefix),
	})
	aborted := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return aborted, s.wrap("list multipart uploads", prefix, err, storage.ErrBucketNotFound)
		}
		for _, u := range page.Uploads {
			if aws.ToTime(u.Initiated).After(cutoff) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(s.cfg.Bucket), Key: u.Key, UploadId: u.UploadId,
			})
			if err != nil && classify(err, storage.ErrNotExist) != storage.ErrNotExist {
				return aborted, s.wrap("abort multipart upload", aws.ToString(u.Key), err, storage.ErrNotExist)
			}
			aborted++
		}
	}
	return aborted, nil
}
