package s3

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acode-dev/acode/internal/storage"
)

// FileUploadMemory bounds what one upload of a file body (storage.Growing
// or *os.File) holds in memory with the default settings: each part in
// flight is read from the file through the HTTP client's and the CRC32's
// 32 KiB buffers, so requests and buffers come to well under a MiB (1.7
// MiB allocated in all for two 48 MiB uploads in
// TestS3Store_AFileUploadDoesNotBufferItsParts), not the parts themselves.
const FileUploadMemory = 2 << 20

// sections is a Put body that is a file on disk: a spool file still being
// written (storage.Growing) or a finished *os.File. Its parts are uploaded
// as io.SectionReaders of it, so no part is copied into memory: the
// transfer manager instead reads each part into a buffer of its own
// (Concurrency+1 of them, allocated per upload, plus the first part), which
// with a sync's two uploads per writer in flight cost about 100 MiB of
// peak RSS over a local sync. A SectionReader is seekable, so the SDK
// computes each part's CRC32 and rewinds it for a retry without a copy.
type sections struct {
	r io.ReaderAt
	// written blocks until n bytes are there or the body is complete.
	written func(ctx context.Context, n int64) (int64, bool, error)
}

// sectionsOf returns r as sections when its bytes can be read at offsets;
// ok is false for any other reader, which goes through the transfer
// manager. A file is read from its current offset to its end, which must
// be size bytes when size >= 0.
func sectionsOf(r io.Reader, size int64) (src *sections, ok bool, err error) {
	switch b := r.(type) {
	case storage.Growing:
		return &sections{r: b, written: b.Written}, true, nil
	case *os.File:
		off, err := b.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, true, fmt.Errorf("offset of %s: %w", b.Name(), err)
		}
		st, err := b.Stat()
		if err != nil {
			return nil, true, fmt.Errorf("stat %s: %w", b.Name(), err)
		}
		n := st.Size() - off
		if size >= 0 && n != size {
			return nil, true, fmt.Errorf("%s holds %d bytes, want %d: %w", b.Name(), n, size, storage.ErrSizeMismatch)
		}
		fixed := func(context.Context, int64) (int64, bool, error) { return n, true, nil }
		return &sections{r: io.NewSectionReader(b, off, n), written: fixed}, true, nil
	}
	return nil, false, nil
}

// sectionUpload is one upload of sections to key.
type sectionUpload struct {
	s    *Store
	key  string
	src  *sections
	size int64 // announced size, -1 when unknown
	// meta is the object's user metadata; deferred keeps the completion
	// back and returns it instead of sending it.
	meta     map[string]string
	deferred bool
}

// run uploads the body. A complete body below the part size is one
// PutObject (Put only); anything else is a multipart upload of parts read
// from the file as they are written, Concurrency at a time, that is
// aborted on any failure. It returns the completion (sent already unless
// deferred; nil after a PutObject) and the bytes uploaded.
func (u *sectionUpload) run(ctx context.Context) (*s3.CompleteMultipartUploadInput, int64, error) {
	partSize := u.partSize()
	written, complete, err := u.src.written(ctx, partSize)
	if err != nil {
		return nil, 0, err
	}
	if complete && written < partSize && !u.deferred {
		if err := u.checkSize(written); err != nil {
			return nil, 0, err
		}
		_, err := u.s.client.PutObject(ctx, u.putInput(written))
		return nil, written, err
	}
	created, err := u.s.client.CreateMultipartUpload(ctx, u.createInput())
	if err != nil {
		return nil, 0, err
	}
	done, total, err := u.parts(ctx, created.UploadId, partSize)
	if err == nil {
		err = u.checkSize(total)
	}
	if err == nil && !u.deferred {
		_, err = u.s.client.CompleteMultipartUpload(ctx, done)
	}
	if err != nil {
		u.s.abortHeld(ctx, done)
		return nil, 0, err
	}
	return done, total, nil
}

// partSize is the configured part size, grown for a huge known size to fit
// S3's 10,000-part cap.
func (u *sectionUpload) partSize() int64 {
	p := u.s.cfg.PartSizeBytes
	if u.size > 0 && u.size/p >= maxParts {
		p = u.size/(maxParts-1) + 1
	}
	return p
}

func (u *sectionUpload) checkSize(n int64) error {
	if u.size >= 0 && n != u.size {
		return fmt.Errorf("%w: got %d bytes, want %d", storage.ErrSizeMismatch, n, u.size)
	}
	return nil
}

// sectionPart is one part's place in the body.
type sectionPart struct {
	num     int32
	off, n  int64
	partErr error
	done    types.CompletedPart
}

// parts uploads the body's parts as they are written and returns the
// completion input of upload id (always, so a failure can be aborted) and
// the bytes uploaded. The first failure cancels the parts in flight.
func (u *sectionUpload) parts(ctx context.Context, id *string, partSize int64) (*s3.CompleteMultipartUploadInput, int64, error) {
	in := &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(u.s.cfg.Bucket), Key: aws.String(u.key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{},
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	todo := make(chan *sectionPart)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent []*sectionPart
	)
	for range u.s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range todo {
				if p.partErr = u.uploadPart(ctx, id, p); p.partErr != nil {
					cancel(p.partErr)
				}
				mu.Lock()
				sent = append(sent, p)
				mu.Unlock()
			}
		}()
	}
	total, readErr := u.feed(ctx, todo, partSize)
	if readErr != nil {
		cancel(readErr) // the parts in flight are of no use now
	}
	close(todo)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return in, 0, err // a part's failure, or the caller's cancellation
	}
	if readErr != nil {
		return in, 0, readErr
	}
	sort.Slice(sent, func(i, j int) bool { return sent[i].num < sent[j].num })
	for _, p := range sent {
		in.MultipartUpload.Parts = append(in.MultipartUpload.Parts, p.done)
	}
	in.MpuObjectSize = aws.Int64(total)
	return in, total, nil
}

// feed hands out the body's parts as their bytes are written and returns
// the body's size. An empty body still gets one (empty) part.
func (u *sectionUpload) feed(ctx context.Context, todo chan<- *sectionPart, partSize int64) (int64, error) {
	var off int64
	for num := int32(1); ; num++ {
		if num > maxParts {
			return 0, fmt.Errorf("over S3's %d parts of %d bytes", maxParts, partSize)
		}
		written, complete, err := u.src.written(ctx, off+partSize)
		if err != nil {
			return 0, err
		}
		n := min(written, off+partSize) - off
		if n == 0 && num > 1 {
			return off, nil // the body ended on a part boundary
		}
		select {
		case todo <- &sectionPart{num: num, off: off, n: n}:
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
		off += n
		if complete && off == written {
			return off, nil
		}
	}
}

// uploadPart sends one part, read from the file by a SectionReader.
func (u *sectionUpload) uploadPart(ctx context.Context, id *string, p *sectionPart) error {
	out, err := u.s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:            aws.String(u.s.cfg.Bucket),
		Key:               aws.String(u.key),
		UploadId:          id,
		PartNumber:        aws.Int32(p.num),
		Body:              io.NewSectionReader(u.src.r, p.off, p.n),
		ContentLength:     aws.Int64(p.n),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("upload part %d: %w", p.num, err)
	}
	p.done = types.CompletedPart{PartNumber: aws.Int32(p.num), ETag: out.ETag}
	setSums(partSums(&p.done), readSums(uploadPartSums(out)))
	return nil
}

func (u *sectionUpload) createInput() *s3.CreateMultipartUploadInput {
	in := &s3.CreateMultipartUploadInput{
		Bucket:               aws.String(u.s.cfg.Bucket),
		Key:                  aws.String(u.key),
		Metadata:             u.meta,
		ServerSideEncryption: types.ServerSideEncryption(u.s.cfg.ServerSideEncryption),
		ChecksumAlgorithm:    types.ChecksumAlgorithmCrc32,
	}
	if u.s.cfg.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(u.s.cfg.KMSKeyID)
	}
	return in
}

func (u *sectionUpload) putInput(n int64) *s3.PutObjectInput {
	in := &s3.PutObjectInput{
		Bucket:               aws.String(u.s.cfg.Bucket),
		Key:                  aws.String(u.key),
		Body:                 io.NewSectionReader(u.src.r, 0, n),
		ContentLength:        aws.Int64(n),
		Metadata:             u.meta,
		ServerSideEncryption: types.ServerSideEncryption(u.s.cfg.ServerSideEncryption),
		ChecksumAlgorithm:    types.ChecksumAlgorithmCrc32,
	}
	if u.s.cfg.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(u.s.cfg.KMSKeyID)
	}
	return in
}
