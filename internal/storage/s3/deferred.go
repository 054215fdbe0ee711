package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/acode-dev/acode/internal/storage"
)

var _ storage.Deferrer = (*Store)(nil)

// nonceMeta is the user metadata key (x-amz-meta-acode-upload) that carries
// a deferred upload's nonce onto its object, so a completion that finds its
// upload gone can tell "I completed it already" from "it was aborted". The
// SDK lowercases metadata keys it reads, so it is lowercase here too.
const nonceMeta = "acode-upload"

// deferredToken is Pending.Token: everything CompleteMultipartUpload needs
// beyond the key and the upload id, so another process can complete it.
type deferredToken struct {
	Nonce string `json:"nonce"`
	// Size is the bytes uploaded: a completed object under the key must
	// have it to count as this upload's.
	Size         int64  `json:"size"`
	ChecksumType string `json:"checksum_type,omitempty"`
	// MpuObjectSize and Checksums (full-object) are sent back as recorded.
	MpuObjectSize *int64            `json:"mpu_object_size,omitempty"`
	Checksums     map[string]string `json:"checksums,omitempty"`
	Parts         []tokenPart       `json:"parts"`
}

type tokenPart struct {
	Number    int32             `json:"n"`
	ETag      string            `json:"etag"`
	Checksums map[string]string `json:"checksums,omitempty"`
}

// PutDeferred uploads r through transfermanager like Put (same SSE, part
// sizes, retries, and abort on any failure), but as a multipart upload that
// is left open: holdingClient keeps the final CompleteMultipartUpload from
// reaching S3 and records it in the Pending instead. A body below the part
// size, which transfermanager would PUT, becomes a one-part upload, so
// every deferred object completes the same way.
func (s *Store) PutDeferred(ctx context.Context, key string, r io.Reader, size int64) (storage.Pending, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.Pending{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.Pending{}, fmt.Errorf("s3 put deferred %s: %w", s.Location(key), err)
	}
	nonce := newNonce()
	if src, ok, err := sectionsOf(r, size); ok {
		if err != nil {
			return storage.Pending{}, s.wrap("put deferred", key, err, storage.ErrBucketNotFound)
		}
		u := &sectionUpload{s: s, key: key, src: src, size: size, meta: map[string]string{nonceMeta: nonce}, deferred: true}
		held, n, err := u.run(ctx)
		if err != nil {
			return storage.Pending{}, s.wrap("put deferred", key, err, storage.ErrBucketNotFound)
		}
		return s.pendingOf(ctx, held, nonce, n)
	}
	body := &countingReader{r: storage.GuardReader(ctx, r, size)}
	in := s.uploadInput(key, body)
	in.Metadata = map[string]string{nonceMeta: nonce}
	hc := &holdingClient{}
	_, err := s.tm.UploadObject(ctx, in, growParts(size), func(o *transfermanager.Options) {
		hc.S3APIClient = o.S3
		o.S3 = hc
	})
	held := hc.held()
	if err != nil {
		if held != nil { // cannot happen today: completion is the last step
			s.abortHeld(ctx, held)
		}
		return storage.Pending{}, s.wrap("put deferred", key, err, storage.ErrBucketNotFound)
	}
	if held == nil {
		return storage.Pending{}, fmt.Errorf("s3 put deferred %s: transfermanager finished without completing the upload", s.Location(key))
	}
	return s.pendingOf(ctx, held, nonce, body.n)
}

// pendingOf is the handle of the held completion of a PutDeferred of size
// bytes; the upload is aborted when its token cannot be made.
func (s *Store) pendingOf(ctx context.Context, held *s3.CompleteMultipartUploadInput, nonce string, size int64) (storage.Pending, error) {
	key := aws.ToString(held.Key)
	tok, err := json.Marshal(newToken(held, nonce, size))
	if err != nil {
		s.abortHeld(ctx, held)
		return storage.Pending{}, fmt.Errorf("s3 put deferred %s: encode token: %w", s.Location(key), err)
	}
	return storage.Pending{Key: key, ID: aws.ToString(held.UploadId), Token: string(tok)}, nil
}

// CompleteDeferred sends the CompleteMultipartUpload that PutDeferred held
// back, then checks with HeadObject that the object under the key is this
// upload's (its nonce and size). The check is what tells a completion apart
// from the answers that only look like one: S3 forgets an upload once it
// is completed, so a re-run gets NoSuchUpload for an upload that did land;
// and versitygw answers success for an upload id it no longer knows
// whenever any object exists under the key, an aborted upload's included.
// Anything but this upload's object under the key is ErrNotExist.
func (s *Store) CompleteDeferred(ctx context.Context, p storage.Pending) error {
	if err := storage.ValidateKey(p.Key); err != nil {
		return err
	}
	var tok deferredToken
	if err := json.Unmarshal([]byte(p.Token), &tok); err != nil {
		return fmt.Errorf("s3 complete %s: decode token of upload %s: %w", s.Location(p.Key), p.ID, err)
	}
	if tok.Nonce == "" || len(tok.Parts) == 0 {
		return fmt.Errorf("s3 complete %s: token of upload %s has no nonce or no parts", s.Location(p.Key), p.ID)
	}
	_, err := s.client.CompleteMultipartUpload(ctx, s.completeInput(p, tok))
	if err != nil && !isNoSuchUpload(err) {
		return s.wrap("complete multipart upload "+p.ID+" of", p.Key, err, storage.ErrNotExist)
	}
	return s.checkCompleted(ctx, p, tok, err)
}

// checkCompleted returns nil when the object under p.Key is p's upload,
// else ErrNotExist (with completeErr, S3's NoSuchUpload, when there was one).
func (s *Store) checkCompleted(ctx context.Context, p storage.Pending, tok deferredToken, completeErr error) error {
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(p.Key)})
	if err != nil && classify(err, storage.ErrNotExist) != storage.ErrNotExist {
		return s.wrap("head (to check completion of upload "+p.ID+")", p.Key, err, storage.ErrNotExist)
	}
	if err == nil && head.Metadata[nonceMeta] == tok.Nonce && aws.ToInt64(head.ContentLength) == tok.Size {
		return nil
	}
	gone := fmt.Errorf("s3 complete %s: pending upload %s is gone (aborted or expired; the key holds no object of it): %w",
		s.Location(p.Key), p.ID, storage.ErrNotExist)
	if completeErr != nil {
		return fmt.Errorf("%w: %w", gone, completeErr)
	}
	return gone
}

func (s *Store) completeInput(p storage.Pending, tok deferredToken) *s3.CompleteMultipartUploadInput {
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.cfg.Bucket),
		Key:             aws.String(p.Key),
		UploadId:        aws.String(p.ID),
		ChecksumType:    types.ChecksumType(tok.ChecksumType),
		MpuObjectSize:   tok.MpuObjectSize,
		MultipartUpload: &types.CompletedMultipartUpload{},
	}
	setSums(completeSums(in), tok.Checksums)
	for _, tp := range tok.Parts {
		cp := types.CompletedPart{PartNumber: aws.Int32(tp.Number), ETag: aws.String(tp.ETag)}
		setSums(partSums(&cp), tp.Checksums)
		in.MultipartUpload.Parts = append(in.MultipartUpload.Parts, cp)
	}
	return in
}

// AbortDeferred sends AbortMultipartUpload; an upload already gone
// (NoSuchUpload, or a bare 404) is the goal reached.
func (s *Store) AbortDeferred(ctx context.Context, p storage.Pending) error {
	if err := storage.ValidateKey(p.Key); err != nil {
		return err
	}
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(p.Key), UploadId: aws.String(p.ID),
	})
	if err == nil || isNoSuchUpload(err) || classify(err, storage.ErrNotExist) == storage.ErrNotExist {
		return nil
	}
	return s.wrap("abort multipart upload "+p.ID+" of", p.Key, err, storage.ErrNotExist)
}

// ListDeferred pages through ListMultipartUploads under prefix. It lists
// every open multipart upload there, a Put still in flight included.
func (s *Store) ListDeferred(ctx context.Context, prefix string, fn func(storage.Pending) error) error {
	if err := storage.ValidatePrefix(prefix); err != nil {
		return err
	}
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.cfg.Bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.wrap("list multipart uploads", prefix, err, storage.ErrBucketNotFound)
		}
		for _, u := range page.Uploads {
			if err := fn(storage.Pending{Key: aws.ToString(u.Key), ID: aws.ToString(u.UploadId)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// abortHeld aborts an upload PutDeferred will not hand out, on a fresh
// context so a cancelled PutDeferred still cleans up. Its error is dropped:
// the caller already reports why the upload failed, and the bucket's
// lifecycle rule or CleanIncomplete removes what is left.
func (s *Store) abortHeld(ctx context.Context, held *s3.CompleteMultipartUploadInput) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, _ = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: held.Bucket, Key: held.Key, UploadId: held.UploadId,
	})
}

// isNoSuchUpload reports S3's answer for an upload id it does not know:
// never created, aborted, expired, or already completed.
func isNoSuchUpload(err error) bool {
	var nsu *types.NoSuchUpload
	if errors.As(err, &nsu) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload"
}

// holdingClient is the S3 client transfermanager uses for one PutDeferred.
// It holds back the completion: CompleteMultipartUpload is recorded, not
// sent. PutObject (a body below the part size) becomes a one-part
// multipart upload recorded the same way. The rest passes through.
type holdingClient struct {
	transfermanager.S3APIClient

	mu       sync.Mutex
	complete *s3.CompleteMultipartUploadInput
}

// CompleteMultipartUpload records in and answers success without calling
// S3. transfermanager only copies the output's (nil) fields.
func (h *holdingClient) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	h.hold(in)
	return &s3.CompleteMultipartUploadOutput{}, nil
}

// PutObject uploads in.Body as part 1 of a new multipart upload (a last,
// here only, part may be under 5 MiB, even empty) and holds its
// completion. On failure it aborts that upload before returning.
// Precomputed full-object checksums on in are not carried over
// (PutDeferred sets none; the SDK computes the part's own).
func (h *holdingClient) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	created, err := h.S3APIClient.CreateMultipartUpload(ctx, createInputFor(in), optFns...)
	if err != nil {
		return nil, err
	}
	part, err := h.S3APIClient.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:               in.Bucket,
		Key:                  in.Key,
		UploadId:             created.UploadId,
		PartNumber:           aws.Int32(1),
		Body:                 in.Body,
		ChecksumAlgorithm:    in.ChecksumAlgorithm,
		ExpectedBucketOwner:  in.ExpectedBucketOwner,
		RequestPayer:         in.RequestPayer,
		SSECustomerAlgorithm: in.SSECustomerAlgorithm,
		SSECustomerKey:       in.SSECustomerKey,
		SSECustomerKeyMD5:    in.SSECustomerKeyMD5,
	}, optFns...)
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		_, abortErr := h.S3APIClient.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: in.Bucket, Key: in.Key, UploadId: created.UploadId,
			ExpectedBucketOwner: in.ExpectedBucketOwner, RequestPayer: in.RequestPayer,
		})
		if abortErr != nil {
			return nil, fmt.Errorf("upload part 1 of %s: %w (and abort it: %w)", aws.ToString(created.UploadId), err, abortErr)
		}
		return nil, fmt.Errorf("upload part 1 of %s: %w", aws.ToString(created.UploadId), err)
	}
	cp := types.CompletedPart{PartNumber: aws.Int32(1), ETag: part.ETag}
	setSums(partSums(&cp), readSums(uploadPartSums(part)))
	h.hold(&s3.CompleteMultipartUploadInput{
		Bucket:          in.Bucket,
		Key:             in.Key,
		UploadId:        created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{cp}},
	})
	return &s3.PutObjectOutput{}, nil
}

func (h *holdingClient) hold(in *s3.CompleteMultipartUploadInput) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.complete = in
}

func (h *holdingClient) held() *s3.CompleteMultipartUploadInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.complete
}

// createInputFor is the CreateMultipartUpload equivalent of a PutObject:
// the object's headers, metadata, encryption and checksum algorithm.
func createInputFor(in *s3.PutObjectInput) *s3.CreateMultipartUploadInput {
	return &s3.CreateMultipartUploadInput{
		Bucket:                    in.Bucket,
		Key:                       in.Key,
		ACL:                       in.ACL,
		BucketKeyEnabled:          in.BucketKeyEnabled,
		CacheControl:              in.CacheControl,
		ChecksumAlgorithm:         in.ChecksumAlgorithm,
		ContentDisposition:        in.ContentDisposition,
		ContentEncoding:           in.ContentEncoding,
		ContentLanguage:           in.ContentLanguage,
		ContentType:               in.ContentType,
		ExpectedBucketOwner:       in.ExpectedBucketOwner,
		Expires:                   in.Expires,
		GrantFullControl:          in.GrantFullControl,
		GrantRead:                 in.GrantRead,
		GrantReadACP:              in.GrantReadACP,
		GrantWriteACP:             in.GrantWriteACP,
		Metadata:                  in.Metadata,
		ObjectLockLegalHoldStatus: in.ObjectLockLegalHoldStatus,
		ObjectLockMode:            in.ObjectLockMode,
		ObjectLockRetainUntilDate: in.ObjectLockRetainUntilDate,
		RequestPayer:              in.RequestPayer,
		SSECustomerAlgorithm:      in.SSECustomerAlgorithm,
		SSECustomerKey:            in.SSECustomerKey,
		SSECustomerKeyMD5:         in.SSECustomerKeyMD5,
		SSEKMSEncryptionContext:   in.SSEKMSEncryptionContext,
		SSEKMSKeyId:               in.SSEKMSKeyId,
		ServerSideEncryption:      in.ServerSideEncryption,
		StorageClass:              in.StorageClass,
		Tagging:                   in.Tagging,
		WebsiteRedirectLocation:   in.WebsiteRedirectLocation,
	}
}

func newToken(held *s3.CompleteMultipartUploadInput, nonce string, size int64) deferredToken {
	tok := deferredToken{
		Nonce:         nonce,
		Size:          size,
		ChecksumType:  string(held.ChecksumType),
		MpuObjectSize: held.MpuObjectSize,
		Checksums:     readSums(completeSums(held)),
	}
	if held.MultipartUpload != nil {
		for i := range held.MultipartUpload.Parts {
			cp := &held.MultipartUpload.Parts[i]
			tok.Parts = append(tok.Parts, tokenPart{
				Number:    aws.ToInt32(cp.PartNumber),
				ETag:      aws.ToString(cp.ETag),
				Checksums: readSums(partSums(cp)),
			})
		}
	}
	return tok
}

// sumFields points at the checksum fields of one SDK struct by algorithm,
// so the token carries whichever are set without a case per field.
type sumFields map[string]**string

func readSums(f sumFields) map[string]string {
	var m map[string]string
	for name, p := range f {
		if *p != nil {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = **p
		}
	}
	return m
}

func setSums(f sumFields, m map[string]string) {
	for name, v := range m {
		if p, ok := f[name]; ok {
			*p = aws.String(v)
		}
	}
}

func partSums(p *types.CompletedPart) sumFields {
	return sumFields{
		"crc32": &p.ChecksumCRC32, "crc32c": &p.ChecksumCRC32C, "crc64nvme": &p.ChecksumCRC64NVME,
		"md5": &p.ChecksumMD5, "sha1": &p.ChecksumSHA1, "sha256": &p.ChecksumSHA256, "sha512": &p.ChecksumSHA512,
		"xxhash128": &p.ChecksumXXHASH128, "xxhash3": &p.ChecksumXXHASH3, "xxhash64": &p.ChecksumXXHASH64,
	}
}

func uploadPartSums(p *s3.UploadPartOutput) sumFields {
	return sumFields{
		"crc32": &p.ChecksumCRC32, "crc32c": &p.ChecksumCRC32C, "crc64nvme": &p.ChecksumCRC64NVME,
		"md5": &p.ChecksumMD5, "sha1": &p.ChecksumSHA1, "sha256": &p.ChecksumSHA256, "sha512": &p.ChecksumSHA512,
		"xxhash128": &p.ChecksumXXHASH128, "xxhash3": &p.ChecksumXXHASH3, "xxhash64": &p.ChecksumXXHASH64,
	}
}

func completeSums(p *s3.CompleteMultipartUploadInput) sumFields {
	return sumFields{
		"crc32": &p.ChecksumCRC32, "crc32c": &p.ChecksumCRC32C, "crc64nvme": &p.ChecksumCRC64NVME,
		"md5": &p.ChecksumMD5, "sha1": &p.ChecksumSHA1, "sha256": &p.ChecksumSHA256, "sha512": &p.ChecksumSHA512,
		"xxhash128": &p.ChecksumXXHASH128, "xxhash3": &p.ChecksumXXHASH3, "xxhash64": &p.ChecksumXXHASH64,
	}
}

// newNonce is 128 random bits in hex: unique per upload.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return hex.EncodeToString(b)
}

// countingReader counts the bytes transfermanager read, all from one
// goroutine.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
