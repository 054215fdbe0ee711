// Package storage is the one seam between acode and where its files land: a
// local directory or an S3 bucket. Everything above it (the Parquet writer,
// the commit protocol, reconciliation) speaks only the Store interface, so the
// same code and the same acceptance suite (package storagetest) cover both.
package storage

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors every backend returns, wrapped so that errors.Is finds them
// while the backend's own error (an *fs.PathError, an S3 API error) stays in
// the chain for errors.As and for the message. Callers classify with
// errors.Is, never by message text: failover maps ErrAccessDenied and
// ErrBucketNotFound to "configuration problem, do not retry".
var (
	// ErrNotExist means the object is missing (S3 NoSuchKey / 404, file ENOENT).
	ErrNotExist = errors.New("object does not exist")
	// ErrAccessDenied means the credentials are wrong or lack permission (S3
	// AccessDenied / 403, InvalidAccessKeyId, SignatureDoesNotMatch; file EACCES).
	ErrAccessDenied = errors.New("access denied")
	// ErrBucketNotFound means the S3 bucket does not exist (NoSuchBucket).
	ErrBucketNotFound = errors.New("bucket does not exist")
	// ErrInvalidKey means a key is empty, absolute, or escapes the root.
	ErrInvalidKey = errors.New("invalid key")
	// ErrSizeMismatch means a Put's reader yielded more or fewer bytes than
	// the size it announced; nothing was stored.
	ErrSizeMismatch = errors.New("object size differs from announced size")
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	// Key is the object's full '/'-separated key, relative to the store root.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// ModTime is when the object was last written.
	ModTime time.Time
	// ETag is the backend's entity tag without quotes (S3: the MD5 for a
	// single PUT, "<md5>-<parts>" for multipart); empty when the backend has
	// none (the file backend).
	ETag string
}

// Store is a flat namespace of immutable-once-written objects addressed by
// '/'-separated keys. The contract every backend honours (and the
// storagetest suite checks):
//
//   - Keys are relative, '/'-separated, non-empty, with no leading '/', no
//     empty, "." or ".." segments; anything else fails with ErrInvalidKey.
//   - Put is atomic: a reader of the key sees the previous object or the whole
//     new one, never a partial one. A Put whose reader fails, whose byte count
//     differs from a non-negative size, or whose context is cancelled leaves
//     no trace: the previous object (if any) stays intact.
//   - Reads after a successful Put see the new object (strong consistency).
//   - List visits every object whose key starts with prefix (a plain string
//     prefix: "a/b" matches "a/bc/x", "a/b/" does not), recursively, in
//     lexical byte order of keys, handling paging itself. An error returned by
//     fn stops the listing and is returned.
//   - Delete of a missing key is not an error.
//   - Every call honours ctx cancellation.
//
// Implementations are safe for concurrent use.
type Store interface {
	// Put stores r's bytes under key, replacing any previous object
	// atomically. size is the exact byte count, or -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open returns the object's content; ErrNotExist when missing. The caller
	// closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object; ErrNotExist when missing.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// List calls fn for every object under prefix in lexical key order.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// Delete removes the keys; missing ones are ignored. S3 batches them.
	Delete(ctx context.Context, keys ...string) error
	// Copy makes dst a copy of src (server-side where the backend can);
	// ErrNotExist when src is missing. Later writes to src do not change dst.
	Copy(ctx context.Context, src, dst string) error
	// Ping checks that the store is reachable with the configured
	// credentials and that its bucket or directory exists, for `acode check`.
	// The file backend also proves it can write there.
	Ping(ctx context.Context) error
	// Location names key for humans: "s3://bucket/key" or an absolute path.
	Location(key string) string
}

// Janitor is implemented by stores whose interrupted writes can leave debris
// that is not an object and so never shows in List: the file backend's temp
// files after a kill -9, S3's incomplete multipart uploads (stored and
// billed until aborted). Call it at startup with olderThan longer than any
// upload can take, so another process's in-flight writes are left alone.
type Janitor interface {
	// CleanIncomplete removes debris of writes under prefix started more
	// than olderThan ago and reports how many it removed.
	CleanIncomplete(ctx context.Context, prefix string, olderThan time.Duration) (int, error)
}
