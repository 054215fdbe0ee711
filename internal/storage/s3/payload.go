package s3

import (
	"context"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// unsignedPayload makes requests to a plain-HTTP endpoint (MinIO or
// versitygw inside a cluster) leave their body out of the SigV4 signature,
// as the SDK already does over HTTPS. Otherwise every byte uploaded is
// hashed with SHA-256 twice, by the client to sign it and by the server to
// check it: at the speed a sync writes, about a tenth of the machine. The
// body's integrity still rests on the CRC32 checksum the SDK sends with
// every part and the server verifies, and on the SHA-256 of each file in
// the manifest, which `acode validate` checks.
func unsignedPayload(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("acodeUnsignedPayloadOverHTTP",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok && !req.IsHTTPS() {
				ctx = v4.SetPayloadHash(ctx, "UNSIGNED-PAYLOAD")
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.Before)
}
