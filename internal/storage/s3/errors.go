package s3

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/acode-dev/acode/internal/storage"
)

// wrap names the operation and location and adds the storage sentinel that
// matches err, keeping err in the chain for errors.As. notFound is the
// sentinel a bare 404 means for this operation (a missing object, or a
// missing bucket for HeadBucket). SDK errors carry codes and request ids,
// never credentials.
func (s *Store) wrap(op, key string, err error, notFound error) error {
	where := s.Location(key)
	if kind := classify(err, notFound); kind != nil {
		return fmt.Errorf("s3 %s %s: %w: %w", op, where, kind, err)
	}
	return fmt.Errorf("s3 %s %s: %w", op, where, err)
}

// classify maps an SDK error to a storage sentinel by its modeled type, its
// S3 error code or its HTTP status; nil when none applies (5xx after
// retries, network errors, cancellation: callers see those as they are).
func classify(err error, notFound error) error {
	var (
		noBucket *types.NoSuchBucket
		noKey    *types.NoSuchKey
		nf       *types.NotFound
	)
	switch {
	case errors.As(err, &noBucket):
		return storage.ErrBucketNotFound
	case errors.As(err, &noKey), errors.As(err, &nf):
		return notFound
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if kind := classifyCode(api.ErrorCode(), notFound); kind != nil {
			return kind
		}
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		switch resp.HTTPStatusCode() {
		case http.StatusForbidden, http.StatusUnauthorized:
			return storage.ErrAccessDenied
		case http.StatusNotFound:
			return notFound
		}
	}
	return nil
}

// classifyCode maps an S3 error code (also those in a DeleteObjects
// answer, which carry no HTTP status of their own).
func classifyCode(code string, notFound error) error {
	switch code {
	case "NoSuchBucket":
		return storage.ErrBucketNotFound
	case "NoSuchKey", "NotFound":
		return notFound
	case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"AllAccessDisabled", "AccountProblem", "ExpiredToken", "InvalidToken", "InvalidSecurity":
		return storage.ErrAccessDenied
	}
	return nil
}
