package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// SendError is a delivery that failed. It names the sink and, for an HTTP
// answer, the status and the start of the body; never the endpoint's URL
// path, query, token or key.
type SendError struct {
	Sink       string
	StatusCode int    // 0 when no HTTP answer came
	Body       string // start of the answer's body
	Err        error
}

func (e *SendError) Error() string {
	switch {
	case e.StatusCode != 0:
		return fmt.Sprintf("%s: HTTP %d: %s", e.Sink, e.StatusCode, e.Body)
	case e.Body != "":
		return fmt.Sprintf("%s: %s", e.Sink, e.Body)
	default:
		return fmt.Sprintf("%s: %v", e.Sink, e.Err)
	}
}

func (e *SendError) Unwrap() error { return e.Err }

// maxErrorBody bounds how much of an error answer is kept.
const maxErrorBody = 300

// postJSON posts body as JSON and returns the answer's body on a 2xx. The
// secrets are scrubbed from any error text; the URL in a transport error
// is cut to scheme and host, because webhook URLs carry their token.
func postJSON(ctx context.Context, client *http.Client, sink, endpoint string, header http.Header, body any, secrets ...string) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, &SendError{Sink: sink, Err: fmt.Errorf("encode: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(data))
	if err != nil {
		return nil, &SendError{Sink: sink, Err: errors.New("invalid endpoint URL")}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "acode")
	resp, err := client.Do(req)
	if err != nil {
		return nil, &SendError{Sink: sink, Err: redactURLError(err, secrets)}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, &SendError{Sink: sink, StatusCode: resp.StatusCode, Err: redactURLError(err, secrets)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &SendError{Sink: sink, StatusCode: resp.StatusCode, Body: scrub(shorten(string(answer)), secrets)}
	}
	return answer, nil
}

// redactURLError replaces the URL inside a *url.Error by its scheme and
// host, and scrubs the secrets from the rest.
func redactURLError(err error, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		short := "endpoint"
		if u, perr := url.Parse(ue.URL); perr == nil {
			short = u.Scheme + "://" + u.Host
		}
		inner := ue.Err
		if inner != nil && containsAny(inner.Error(), secrets) {
			inner = errors.New(scrub(inner.Error(), secrets))
		}
		return &url.Error{Op: ue.Op, URL: short, Err: inner}
	}
	if containsAny(err.Error(), secrets) {
		return errors.New(scrub(err.Error(), secrets))
	}
	return err
}

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

func containsAny(s string, secrets []string) bool {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			return true
		}
	}
	return false
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxErrorBody {
		return s[:maxErrorBody] + "..."
	}
	return s
}
