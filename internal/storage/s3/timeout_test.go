package s3_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/acode-dev/acode/internal/storage/s3"
)

// silentServer accepts connections and reads what is sent, but never
// answers: a hung S3 endpoint (a stuck proxy, a server out of threads).
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestS3Store_AnUnansweringServerFailsAfterTheReadTimeout(t *testing.T) {
	t.Parallel()
	st, err := s3.New(context.Background(), s3.Config{
		Bucket: "bronze", Endpoint: silentServer(t), AccessKeyID: "k", SecretAccessKey: "s",
		ReadTimeout: 300 * time.Millisecond, MaxAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	err = st.Ping(ctx)
	if err == nil {
		t.Fatal("Ping of a server that never answers succeeded")
	}
	var timeout *awshttp.ResponseTimeoutError
	if ctx.Err() != nil || !errors.As(err, &timeout) {
		t.Fatalf("Ping failed after %s with %v, want the connection's read deadline well before the context's", time.Since(start), err)
	}
}
