package alert

import (
	"context"
	"errors"
	"net/http"
)

// Webhook posts every alert as the JSON of Alert to a URL of your own:
// {"condition", "kind", "severity", "event", "title", "message", "system",
// "action", "metrics", "time", "since", "dedup_key", "status_url"}.
type Webhook struct {
	url    string // secret: it may carry a token
	client *http.Client
}

var _ Sink = (*Webhook)(nil)

// NewWebhook returns a webhook sink for url; client may be nil.
func NewWebhook(url string, client *http.Client) (*Webhook, error) {
	if url == "" {
		return nil, errors.New("webhook: need a URL")
	}
	if client == nil {
		client = &http.Client{}
	}
	return &Webhook{url: url, client: client}, nil
}

// Name is "webhook".
func (w *Webhook) Name() string { return "webhook" }

// Send posts a; any 2xx answer is success.
func (w *Webhook) Send(ctx context.Context, a Alert) error {
	_, err := postJSON(ctx, w.client, w.Name(), w.url, nil, a, w.url)
	return err
}
