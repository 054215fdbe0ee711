package s3

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acode-dev/acode/internal/storage"
)

// Put uploads r: a single PutObject below the part size, otherwise a
// multipart upload that is aborted on any failure (reader error, size
// mismatch, cancellation), so the key keeps its old object. A file
// (storage.Growing or *os.File) is uploaded in sections read from it (see
// sections); any other reader goes through transfermanager.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3 put %s: %w", s.Location(key), err)
	}
	src, ok, err := sectionsOf(r, size)
	switch {
	case ok && err == nil:
		u := &sectionUpload{s: s, key: key, src: src, size: size}
		_, _, err = u.run(ctx)
	case !ok:
		_, err = s.tm.UploadObject(ctx, s.uploadInput(key, storage.GuardReader(ctx, r, size)), growParts(size))
	}
	if err != nil {
		return s.wrap("put", key, err, storage.ErrBucketNotFound)
	}
	return nil
}

// uploadInput is an upload of body to key with the store's server-side
// encryption.
func (s *Store) uploadInput(key string, body io.Reader) *transfermanager.UploadObjectInput {
	in := &transfermanager.UploadObjectInput{
		Bucket:               aws.String(s.cfg.Bucket),
		Key:                  aws.String(key),
		Body:                 body,
		ServerSideEncryption: tmtypes.ServerSideEncryption(s.cfg.ServerSideEncryption),
	}
	if s.cfg.KMSKeyID != "" {
		in.SSEKMSKeyID = aws.String(s.cfg.KMSKeyID)
	}
	return in
}

// growParts grows the parts of an upload of a huge known size so that it
// fits S3's 10,000-part cap.
func growParts(size int64) func(*transfermanager.Options) {
	return func(o *transfermanager.Options) {
		if size > 0 && size/o.PartSizeBytes >= maxParts {
			o.PartSizeBytes = size/(maxParts-1) + 1
		}
	}
}

// Open starts a GetObject and returns its body.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s.wrap("get", key, err, storage.ErrNotExist)
	}
	return out.Body, nil
}

// Stat sends HeadObject. A missing bucket also answers 404 without a code,
// so it reads as ErrNotExist here; Ping tells the two apart.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return storage.ObjectInfo{}, s.wrap("head", key, err, storage.ErrNotExist)
	}
	return storage.ObjectInfo{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: aws.ToTime(out.LastModified),
		ETag:    trimETag(out.ETag),
	}, nil
}

// Copy is a server-side CopyObject; the bytes never leave S3. Objects over
// 5 GiB (CopyObject's limit) are refused rather than copied partially:
// acode's files are far smaller (200 MiB by default).
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	if err := storage.ValidateKey(src); err != nil {
		return err
	}
	if err := storage.ValidateKey(dst); err != nil {
		return err
	}
	info, err := s.Stat(ctx, src)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if src == dst {
		return nil // S3 refuses a copy onto itself that changes nothing
	}
	if info.Size > maxCopySize {
		return fmt.Errorf("s3 copy %s: %d bytes is over CopyObject's 5 GiB limit (multipart copy not supported)", s.Location(src), info.Size)
	}
	return s.copyObject(ctx, s, src, dst)
}

// CopyFrom is a server-side CopyObject from another bucket on the same
// endpoint reached with the same credentials (storage.CopyBetween); it
// reports false for any other store.
func (s *Store) CopyFrom(ctx context.Context, from storage.Store, src, dst string) (bool, error) {
	o, ok := from.(*Store)
	if !ok || o.cfg.Endpoint != s.cfg.Endpoint || o.cfg.Region != s.cfg.Region ||
		o.cfg.AccessKeyID != s.cfg.AccessKeyID || o.cfg.SecretAccessKey != s.cfg.SecretAccessKey {
		return false, nil
	}
	if err := storage.ValidateKey(src); err != nil {
		return true, err
	}
	if err := storage.ValidateKey(dst); err != nil {
		return true, err
	}
	info, err := o.Stat(ctx, src)
	if err != nil {
		return true, fmt.Errorf("copy: %w", err)
	}
	if info.Size > maxCopySize {
		return true, fmt.Errorf("s3 copy %s: %d bytes is over CopyObject's 5 GiB limit (multipart copy not supported)", o.Location(src), info.Size)
	}
	return true, s.copyObject(ctx, o, src, dst)
}

// copyObject copies from's src to s's dst with CopyObject, encrypted as
// s's objects are.
func (s *Store) copyObject(ctx context.Context, from *Store, src, dst string) error {
	in := &s3.CopyObjectInput{
		Bucket:               aws.String(s.cfg.Bucket),
		Key:                  aws.String(dst),
		CopySource:           aws.String(copySource(from.cfg.Bucket, src)),
		ServerSideEncryption: types.ServerSideEncryption(s.cfg.ServerSideEncryption),
	}
	if s.cfg.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.cfg.KMSKeyID)
	}
	if _, err := s.client.CopyObject(ctx, in); err != nil {
		return s.wrap("copy "+from.Location(src)+" to", dst, err, storage.ErrNotExist)
	}
	return nil
}

// copySource is "bucket/key" for x-amz-copy-source, every byte of the key
// except RFC 3986's unreserved characters and '/' percent-encoded: servers
// differ on '+', '&' and '=' when those are left bare.
func copySource(bucket, key string) string {
	var b strings.Builder
	b.WriteString(bucket)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '/' || c == '-' || c == '_' || c == '.' || c == '~' ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func trimETag(etag *string) string { return strings.Trim(aws.ToString(etag), `"`) }
