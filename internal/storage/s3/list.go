package s3

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acode-dev/acode/internal/storage"
)

// deleteBatch is DeleteObjects' limit per request.
const deleteBatch = 1000

// List pages through ListObjectsV2 (S3 returns keys in UTF-8 byte order).
// Keys ending in '/' are "folder" markers made by consoles, not objects, and
// are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.ObjectInfo) error) error {
	if err := storage.ValidatePrefix(prefix); err != nil {
		return err
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:  aws.String(s.cfg.Bucket),
		Prefix:  aws.String(prefix),
		MaxKeys: aws.Int32(s.cfg.ListPageSize),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.wrap("list", prefix, err, storage.ErrBucketNotFound)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			err := fn(storage.ObjectInfo{
				Key:     key,
				Size:    aws.ToInt64(o.Size),
				ModTime: aws.ToTime(o.LastModified),
				ETag:    trimETag(o.ETag),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes keys with DeleteObjects, 1000 per request. Every key is
// validated before anything is deleted.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := storage.ValidateKey(k); err != nil {
			return err
		}
	}
	for start := 0; start < len(keys); start += deleteBatch {
		if err := s.deleteBatch(ctx, keys[start:min(start+deleteBatch, len(keys))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) deleteBatch(ctx context.Context, keys []string) error {
	ids := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
	}
	out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String(s.cfg.Bucket),
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return s.wrap(fmt.Sprintf("delete %d objects under", len(keys)), "", err, storage.ErrBucketNotFound)
	}
	for _, e := range out.Errors {
		code := aws.ToString(e.Code)
		if code == "NoSuchKey" {
			continue // already gone: the goal is reached
		}
		loc := s.Location(aws.ToString(e.Key))
		msg := fmt.Sprintf("s3 delete %s: %s: %s (and %d more errors)", loc, code, aws.ToString(e.Message), len(out.Errors)-1)
		if kind := classifyCode(code, storage.ErrNotExist); kind != nil {
			return fmt.Errorf("%s: %w", msg, kind)
		}
		return errors.New(msg)
	}
	return nil
}
