package storage

import (
	"context"
	"io"
)

// Deferrer is implemented by stores that can upload an object now and make
// it visible later in one cheap step: S3 leaves the multipart upload open
// and completes it at commit. A sync writes each part this way straight to
// its published key, so publishing is a completion per part instead of a
// server-side copy of every byte from a staging area (which doubled the
// S3 server's work and made the commit of a large stream take minutes).
// Until completed, the object is invisible to every reader, listings
// included.
type Deferrer interface {
	// PutDeferred uploads r's bytes toward key (size is exact, or -1 when
	// unknown) and returns the handle that completes or aborts them.
	// Nothing is visible under key until CompleteDeferred. A PutDeferred
	// that fails (reader error, size mismatch, cancellation) leaves
	// nothing behind.
	PutDeferred(ctx context.Context, key string, r io.Reader, size int64) (Pending, error)
	// CompleteDeferred makes p's object visible under its key, atomically
	// replacing any previous object. Completing one that is already
	// completed succeeds while its object is still the one under the key,
	// so a commit interrupted halfway can be run again; one that was
	// aborted (or expired by the bucket's lifecycle rule), or whose object
	// was since replaced, fails with ErrNotExist.
	CompleteDeferred(ctx context.Context, p Pending) error
	// AbortDeferred discards p's bytes; aborting one already gone is not
	// an error. Only Key and ID are needed.
	AbortDeferred(ctx context.Context, p Pending) error
	// ListDeferred calls fn for every upload under prefix (a plain string
	// prefix) that was neither completed nor aborted, with Key and ID set
	// (Token empty): the uploads of a process that died, which nothing
	// will complete. S3 cannot tell them from a Put still running, so a
	// caller aborts only under prefixes no other writer is using.
	ListDeferred(ctx context.Context, prefix string, fn func(Pending) error) error
}

// Pending is an object uploaded but not yet visible. Every field is plain
// text without secrets, so the state store keeps it and another process
// (the next attempt of a job) can complete or abort the upload.
type Pending struct {
	// Key is the object's key once completed.
	Key string `json:"key"`
	// ID names the upload (S3: its upload id).
	ID string `json:"id"`
	// Token is what completing needs beyond Key and ID, opaque to callers
	// (S3: the parts' numbers, ETags and checksums, and a nonce that tells
	// whether an object under Key is this upload's).
	Token string `json:"token,omitempty"`
}
